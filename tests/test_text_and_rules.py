"""The rule extractor: phrase grammar, folding, sentence scope, speakers and guards."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from esd.extractors.rules import RuleExtractor, anchor_groups
from esd.extractors.transcript import customer_turns, unattributed
from esd.models import Attendee, Call, Ticket, Utterance
from esd.references.phrases import parse_phrase
from esd.references.schema import Phrase, Sku, Taxonomy
from esd.text import fold, sentence_spans

WHEN = datetime(2026, 11, 18, tzinfo=UTC)
CSM = Attendee(name="Ana Ruiz", is_customer=False, title="CSM")
DANA = Attendee(name="Dana Lee", is_customer=True, title="VP IT")


def taxonomy(call=(), negatives=(), conditional=()) -> Taxonomy:
    def phrases(items):
        return [p for p in (parse_phrase(t, 1) for t in items) if isinstance(p, Phrase)]

    sku = Sku(id="sku-a", line=1, call_triggers=phrases(call), negatives=phrases(negatives))
    return Taxonomy(path="t.md", sha256="0" * 64, skus=[sku],
                    conditional_patterns=phrases(conditional))


def said(*lines: tuple[Attendee, str], text_form: bool = False) -> Call:
    if text_form:
        body = "\n".join(f"{who.name}: {words}" for who, words in lines)
        return Call(account_id="a1", call_id="c1", occurred_at=WHEN, attendees=[CSM, DANA],
                    transcript_text=body)
    return Call(account_id="a1", call_id="c1", occurred_at=WHEN, attendees=[CSM, DANA],
                transcript=[Utterance(speaker=w.name, text=t) for w, t in lines])


def run(tax: Taxonomy, *calls: Call, tickets=()):
    return RuleExtractor(tax).extract(list(calls), list(tickets))


def test_fold_expands_contractions_and_keeps_sentence_boundaries():
    assert fold("We'd say we're sure we'll go, I've, I'm; don't can't won't") == (
        "we would say we are sure we will go, i have, i am; do not cannot will not")
    assert fold("We’re") == "we are"  # curly apostrophe
    text = "One. Two? Three! v2.0 stays. End"
    assert len(sentence_spans(text)) == len(sentence_spans(fold(text))) == 5


@pytest.mark.parametrize("spoken, hit", [
    ("We are rolling out to 40 more people.", True),
    ("We're rolling out to forty more people in sales.", True),
    ("Rolling out to the whole EMEA sales org more people.", False),  # slot > 4 words
    ("We are rolling out to more people.", False),  # slot needs at least one word
    ("rolling-out to 40 more people", True),  # punctuation separates words
])
def test_placeholder_is_one_to_four_words_or_a_number(spoken, hit):
    tax = taxonomy(call=["rolling out to {N} more people"])
    assert bool(run(tax, said((DANA, spoken)))) is hit


def test_choice_whole_words_and_case():
    tax = taxonomy(call=["if you {supported, added} SSO", "SAML"])
    assert run(tax, said((DANA, "IF YOU ADDED sso, fine.")))
    assert not run(tax, said((DANA, "If you support SSO.")))  # not one of the choices
    assert not run(tax, said((DANA, "We use SAMLify internally.")))  # whole words only
    assert run(tax, said((DANA, "We use (SAML) internally.")))


def test_only_customer_attendees_count_and_quote_is_the_verbatim_sentence():
    tax = taxonomy(call=["do you support SSO"])
    call = said((CSM, "Do you support SSO? Many ask."),
                (DANA, "Fine. So do you   support SSO with Okta? Asking for IT."))
    [m] = run(tax, call)
    assert m.speaker == "Dana Lee" and m.speaker_title == "VP IT"
    assert m.quote == "So do you   support SSO with Okta?"
    assert (m.label, m.source, m.source_id) == ("signal", "call", "c1")


def test_unknown_speaker_never_counts_and_text_form_continues_lines():
    tax = taxonomy(call=["audit log"])
    body = ("Ana Ruiz: Welcome.\nDana Lee: We reviewed the export\nand the audit log looks thin.\n"
            "Guest 42: The audit log is great.")
    call = Call(account_id="a1", call_id="c1", occurred_at=WHEN, attendees=[CSM, DANA],
                transcript_text=body)
    turns = customer_turns(call)
    assert [t.text for t in turns] == ["We reviewed the export\nand the audit log looks thin."]
    # "Guest 42:" opens an utterance by a speaker who is no attendee (contract §2's line
    # rule): it never counts, and is reported as unattributed speech.
    assert [(t.label, t.text) for t in unattributed(call)] == [
        ("Guest 42", "The audit log is great.")]
    mentions = run(tax, call)
    assert [m.quote for m in mentions] == ["We reviewed the export\nand the audit log looks thin."]


def test_negative_example_wins_over_conditional_and_both_are_kept():
    tax = taxonomy(call=["SAML"], negatives=["we already have SSO through {vendor}"],
                   conditional=["thinking about {upgrading, expanding}"])
    call = said((DANA, "We already have SSO through Okta, so SAML would be covered. "
                       "We're thinking about upgrading for SAML. SAML is a must."))
    labels = [(m.label, m.reason) for m in run(tax, call)]
    assert labels == [("not_signal", "negative-example"), ("not_signal", "conditional"),
                      ("signal", None)]


@pytest.mark.parametrize("sentence", [
    "We'd need SCIM next quarter.", "If legal agrees, SCIM is next.",
    "We are considering SCIM.", "Honestly thinking about SCIM.",
])
def test_conditional_markers(sentence):
    [m] = run(taxonomy(call=["SCIM"]), said((DANA, sentence)))
    assert (m.label, m.reason) == ("not_signal", "conditional")


def test_ticket_subject_and_body_are_scanned_as_separate_text():
    tax = taxonomy(call=["audit log"])
    ticket = Ticket(account_id="a1", ticket_id="T1", subject="Export the audit log",
                    body_summary="Our auditors need it. The audit log export fails.",
                    tags=[], opened_at=WHEN)
    mentions = run(tax, tickets=[ticket])
    assert [(m.source, m.source_id, m.quote) for m in mentions] == [
        ("ticket", "T1", "Export the audit log"), ("ticket", "T1", "The audit log export fails.")]


def test_phrase_grammar_errors():
    assert "empty placeholder" in parse_phrase("pricing for {} seats", 3)
    assert "unbalanced" in parse_phrase("pricing for {N seats", 3)
    assert "no literal word" in parse_phrase("{N}", 3)
    assert "empty choice" in parse_phrase("if you {added, }", 3)


def test_anchor_groups_skip_words_folding_produces():
    assert anchor_groups(parse_phrase("we would consider", 1)) == [{"consider"}, {"we"}]
    assert anchor_groups(parse_phrase("{we, you} would", 1)) == [{"we", "you"}]
    assert anchor_groups(parse_phrase("would {x} not", 1)) is None
    # a taxonomy with an anchor-less phrase still matches, on the slow path
    tax = taxonomy(call=["would {x} not"])
    assert RuleExtractor(tax).index.triggers[0].groups == ()
    assert run(tax, said((DANA, "We'd really not.")))
    assert not run(tax, said((DANA, "We really not.")))


def test_extract_stage_reports_progress_per_call_and_ticket():
    from esd.pipeline.extract import extract

    class Recorder:
        def __init__(self):
            self.events = []

        def total(self, n):
            self.events.append(("total", n))

        def advance(self, n=1):
            self.events.append(("advance", n))

    tax = taxonomy(call=["SCIM"])
    ticket = Ticket(account_id="a1", ticket_id="T1", subject="s", body_summary="b", tags=[],
                    opened_at=WHEN)
    recorder = Recorder()
    extract([said((DANA, "SCIM.")), said((DANA, "Hi."))], [ticket], [], tax,
            RuleExtractor(tax), recorder)
    assert recorder.events == [("total", 3)] + [("advance", 1)] * 3


def test_sentence_splitting_reads_only_the_word_before_each_full_stop():
    """Abbreviations are told by the last few characters, so a long call splits in linear
    time, and a long word ending in an abbreviation's letters is still a sentence end."""
    from esd.text import sentence_spans

    text = "We need seats. " * 4000 + "Ask Dr. Brooks. It is xxxxxxxxxxxxxxxxxxxxxxxxxapprox. Done"
    spans = sentence_spans(text)
    assert len(spans) == 4000 + 3
    assert text[spans[-3][0]:spans[-3][1]].strip() == "Ask Dr. Brooks."
    assert text[spans[-2][0]:spans[-2][1]].strip() == "It is xxxxxxxxxxxxxxxxxxxxxxxxxapprox."


def test_lazy_pattern_compiles_on_first_use_only() -> None:
    import copy
    import pickle
    import re

    from esd.text import LazyPattern

    lazy = LazyPattern(r"(?<!\w)sso(?!\w)")
    assert "search" not in vars(lazy)
    assert copy.copy(lazy).source == lazy.source  # copy and pickle see no pattern
    assert pickle.loads(pickle.dumps(lazy)).source == lazy.source
    assert "search" not in vars(lazy)
    assert lazy.search("we need sso now").group(0) == "sso"
    assert "search" in vars(lazy) and "finditer" in vars(lazy)  # compiled once, kept
    assert [m.span() for m in lazy.finditer("sso, sso")] == [(0, 3), (5, 8)]
    assert lazy.pattern == r"(?<!\w)sso(?!\w)"
    assert LazyPattern("(").source == "("  # a bad pattern fails only when used
    with pytest.raises(re.error):
        LazyPattern("(").search("x")


def test_rule_extractor_compiles_only_what_a_week_needs(refs) -> None:
    extractor = RuleExtractor(refs.taxonomy)
    triggers = extractor.index.triggers
    assert not any("search" in vars(t.pattern) for t in triggers)
    call = said((CSM, "How is the team?"),
                (DANA, "We need SAML single sign-on before the audit. Lunch was great."))
    mentions = extractor.extract([extractor.slim(call)], [])
    assert [m.sku for m in mentions] == ["enterprise-tier"]
    assert mentions[0].phrase
    compiled = [t for t in triggers if "search" in vars(t.pattern)]
    assert 0 < len(compiled) < len(triggers) / 4
