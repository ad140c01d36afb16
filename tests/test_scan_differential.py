"""The fast scan finds what the straightforward extractor finds (issue 16).

`tests/scan_oracle.py` reads every sentence of every customer utterance with the
phrase patterns and folding as they were before; `RuleExtractor` searches anchors,
then literal-first patterns, and splits only utterances that match, and a slim call
keeps only those utterances. On seeded adversarial calls (negations, conditionals,
questions answered no, curly apostrophes and other Unicode, punctuation and
abbreviations, overlapping and slot-led phrases, the separator character inside a
text) all three must give the same mentions. ESD_FUZZ_CALLS raises the count (the
branch was checked with 32,000).
"""

from __future__ import annotations

import os
import random
import re
from datetime import UTC, datetime

import pytest
import scan_oracle
from conftest import TEST_REFS

from esd.extractors.rules import RuleExtractor
from esd.extractors.transcript import unattributed_labels
from esd.models import Attendee, Call, Ticket, Utterance
from esd.references import load_references
from esd.references.phrases import parse_phrase
from esd.references.schema import Phrase, Sku, Taxonomy
from esd.text import fold

WHEN = datetime(2026, 11, 18, tzinfo=UTC)
CSM = Attendee(name="Ana Ruiz", is_customer=False, title="CSM")
DANA = Attendee(name="Dana Lee", is_customer=True, title="VP IT")
OMAR = Attendee(name="Omar Said", is_customer=True, email="omar@acme.example")
CALLS = int(os.environ.get("ESD_FUZZ_CALLS", "1500"))

TRIGGERS = {
    "sku-a": ["do you support SSO", "SAML", "pricing for {N} seats", "audit log",
              "{team} team needs access", "{we, you} would like {thing}", "would {x} not",
              "export to {destination}", "can't wait for {thing}"],
    "sku-b": ["audit log", "rolling out to {N} more people", "{added, bought} SCIM",
              "we're trying to {x} — is that on the roadmap", "İstanbul office"],
}
NEGATIVES = {"sku-a": ["we already have SSO through {vendor}", "turned off {x}"]}
CONDITIONAL = ["if you {supported, added} {x}", "thinking about {upgrading, expanding}"]


def _phrases(texts: list[str]) -> list[Phrase]:
    parsed = [parse_phrase(t, 1) for t in texts]
    assert all(isinstance(p, Phrase) for p in parsed), parsed
    return parsed


def fuzz_taxonomy() -> Taxonomy:
    skus = [Sku(id=sku, line=1, call_triggers=_phrases(phrases),
                negatives=_phrases(NEGATIVES.get(sku, []))) for sku, phrases in TRIGGERS.items()]
    return Taxonomy(path="t.md", sha256="0" * 64, skus=skus,
                    conditional_patterns=_phrases(CONDITIONAL))


SAID = [
    "do you support SSO", "Do you   support sso", "do you support SSO through Okta",
    "SAML", "saml", "SAMLify", "(SAML)", "pricing for 40 seats", "pricing for forty more seats",
    "pricing for the whole EMEA sales org seats", "audit log", "audit-log", "audit\nlog",
    "the data team needs access", "data team needs access", "We'd like SCIM", "you would like it",
    "would it not", "wouldn't it", "we won't", "export to Excel", "export to",
    "exported to Excel", "export\x00to Excel", "can't wait for SSO", "can’t wait for SSO",
    "cannot wait for it", "rolling out to 40 more people", "rolling out to more people",
    "added SCIM", "bought scim", "We're trying to automate — is that on the roadmap",
    "we are trying to sync, is that on the roadmap", "İstanbul office", "istanbul office",
    "we already have SSO through Okta", "turned off SAML", "if you supported SAML",
    "thinking about upgrading", "If I'm honest, we need SAML", "we would love SAML",
]
AROUND = [
    "", "We", "we do not need", "we no longer need", "never", "no need for", "without",
    "is not a priority", "is not something we need", "but", "however", ",", ";", "if",
    "would", "we'd", "considering", "thinking about", "to be honest", "could you",
    "e.g.", "Dr.", "J.", "etc.", "vs.", "...", "…", "v2.0", "—", "ß", "Σ", "ΟΔΟΣ", "é",
    "Ｓ", "\u200b", "'", "’", "n't", "'re", "'ll", "Mr.", "approx.", "we", "really",
    "one two three four five six", "Straße", "ǅ", "İ",
]
ENDS = [". ", "! ", "? ", "?\n", ".\n", " ", ", ", "... ", "… ", ".", ""]
ANSWERS = ["No, we dropped it. ", "Nope. ", "Not really. ", "Yes. ", ""]


def utterance(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 4)):
        words = [rng.choice(AROUND) for _ in range(rng.randint(0, 3))]
        words.insert(rng.randint(0, len(words)), rng.choice(SAID))
        if rng.random() < 0.3:
            words.insert(rng.randint(0, len(words)), rng.choice(SAID))
        sentence = " ".join(w for w in words if w)
        if rng.random() < 0.3:
            sentence = sentence.upper() if rng.random() < 0.5 else sentence.capitalize()
        end = rng.choice(ENDS)
        parts.append(sentence + end + (rng.choice(ANSWERS) if "?" in end else ""))
    return "".join(parts)


def fuzz_call(rng: random.Random, number: int) -> Call:
    people = [CSM, DANA, OMAR]
    speakers = [DANA.name, OMAR.name, "omar", CSM.name, "Sam Unknown", ""]
    turns = [(rng.choice(speakers), utterance(rng)) for _ in range(rng.randint(1, 8))]
    common = {"account_id": "a1", "call_id": f"c{number}", "occurred_at": WHEN,
              "attendees": people}
    if rng.random() < 0.5:
        return Call(**common, transcript=[Utterance(speaker=s, text=t) for s, t in turns])
    lines = [f"{s}: {t}" if s else t for s, t in turns]
    return Call(**common, transcript_text="\n".join(lines))


def _same(taxonomy: Taxonomy, calls: list[Call], tickets: list[Ticket]) -> None:
    extractor, by_find = RuleExtractor(taxonomy), RuleExtractor(taxonomy)
    assert extractor.index.automaton is not None
    by_find.index.automaton = None  # the key words found with str.find, one at a time
    expected = [m.model_dump() for m in scan_oracle.extract(taxonomy, calls, tickets)]
    assert [m.model_dump() for m in extractor.extract(calls, tickets)] == expected
    assert [m.model_dump() for m in by_find.extract(calls, tickets)] == expected
    counts = [unattributed_labels(c) for c in calls]
    slim = [extractor.slim(c.model_copy(deep=True)) for c in calls]
    assert [unattributed_labels(c) for c in slim] == counts
    assert [m.model_dump() for m in extractor.extract(slim, tickets)] == expected


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fast_scan_and_slim_calls_find_what_the_oracle_finds(seed):
    rng = random.Random(seed)
    taxonomy = fuzz_taxonomy()
    for start in range(0, CALLS // 3, 50):
        calls = [fuzz_call(rng, start + i) for i in range(50)]
        tickets = [Ticket(account_id="a1", subject=utterance(rng), body_summary=utterance(rng),
                          tags=[], opened_at=WHEN, ticket_id=f"T{i}") for i in range(5)]
        _same(taxonomy, calls, tickets)


def test_fast_scan_matches_the_oracle_on_the_shipped_taxonomy():
    rng = random.Random(7)
    taxonomy = load_references(TEST_REFS, segmentation_required=False).taxonomy
    said = [f'{p.text.replace("{", "").replace("}", "")}' for sku in taxonomy.skus
            for p in [*sku.call_triggers, *sku.negatives]]
    SAID.extend(said)
    try:
        _same(taxonomy, [fuzz_call(rng, i) for i in range(300)], [])
    finally:
        del SAID[-len(said):]


def test_fold_is_the_old_fold():
    rng = random.Random(5)
    pieces = ["can't", "CAN'T", "won’t", "don't", "n't", "we'd", "'re", "'ll", "'ve", "'m",
              "scan't", "wontn't", "can''t", "can'’t", "n'’t", "'d", "i'm", "İ", "Σ", "ß", " ",
              "'", "’", "x", "n", "c", "w", "\x00", "cant", "o'clock", "it's", "rock'n'roll",
              "ca", "n’t", "'dn't", "’dn't", "n’tn't", "n'tn’t", "can'twon't", "_can't", "é'd"]
    for i in range(20000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12 if i % 20 else 400)))
        assert fold(text) == scan_oracle.fold(text), repr(text)


def test_literal_first_patterns_match_the_same_spans():
    from esd.extractors.matcher import literal_first

    rng = random.Random(9)
    phrases = [p for sku in fuzz_taxonomy().skus for p in sku.call_triggers]
    for _ in range(300):
        text = fold(utterance(rng))
        for phrase in phrases:
            old = [m.span() for m in re.finditer(scan_oracle.phrase_pattern(phrase), text)]
            assert [m.span() for m in re.finditer(literal_first(phrase), text)] == old
