"""Which sentences a model gets to read: a recall-first prefilter (issue 5, cost).

The seed sends every transcript and ticket whole. Most of a CSM call is greetings,
agenda, bug reports and scheduling, and half of it is the CSM talking. The prefilter
keeps only what a model needs to judge expansion intent:

- customer attendees' utterances only (coach and unknown speakers never count anyway),
  plus ticket subject and body;
- in those, the sentences that hold *expansion-shaped* language and one sentence
  either side of each, for context. Everything else stays home. Expansion-shaped is,
  with the default `sharp` lexicon (esd/extractors/lexicon.py): any phrase of the
  taxonomy; or a pattern specific enough alone ("another thirty people", SCIM);
  or an expansion object (a lexicon noun or a distinctive taxonomy word) together
  with an intent cue in the same sentence. With `broad`, the first lexicon, any
  lexicon or taxonomy word alone is enough.

It errs on the side of keeping: a false hit costs a few tokens, a miss costs a signal.
`esd eval` reports its recall on the gold set (labeled sentences inside kept windows)
and the share of customer tokens it keeps.

Pure: no I/O. Token counts are estimates (`estimate_tokens`), used for budgets and
reports; what a run costs is counted from the API's own usage figures.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from esd.extractors.lexicon import BROAD, CUES, NOT_CUES, OBJECTS, STANDALONE, words
from esd.extractors.rules import compile_any
from esd.extractors.transcript import customer_turns, ticket_id
from esd.models import Attendee, Call, Ticket
from esd.references.schema import Phrase, Taxonomy
from esd.text import fold, sentence_spans

# Words of taxonomy phrases too common to mark a sentence on their own.
_COMMON = (
    "a an the and or but of to for in on at by with from as is are was were be been "
    "being am do does did done we our us you your it its they them their this that "
    "these those i my me he she his her who what which how when where why there here "
    "not no yes all any some also can cannot will would should could may might must "
    "have has had get got just about into than then so very really much many more "
    "most other another same such only own out up over under again once too each both "
    "few use used using need needs needed trying try start starting started new one "
    "two three team teams is on roadmap people support case sure like want wants way "
    "thing things going go make made know think see look add added access feature "
    "features users user dashboards dashboard log rate count requirements hitting "
    "supported review request"
)
COMMON = frozenset(_COMMON.split())

Source = Literal["call", "ticket"]
Lexicon = Literal["sharp", "broad", "all"]
# "all" keeps every customer sentence: for a model screen that reads them all.
LEXICONS: tuple[Lexicon, ...] = ("sharp", "broad", "all")


def _mask(pattern: re.Pattern[str], text: str) -> str:
    """`text` with every match of `pattern` blanked (same length, so offsets hold)."""
    return pattern.sub(lambda m: " " * len(m.group()), text)


def estimate_tokens(text: str) -> int:
    """About four characters of English per token: budgets and reports, not billing."""
    return math.ceil(len(text) / 4) if text else 0


@dataclass(frozen=True)
class Unit:
    """One customer utterance (or a ticket's subject or body) and what the prefilter
    kept of it: `kept` and `hits` index into `spans` (every sentence of `text`)."""

    text: str
    speaker: Attendee | None
    spans: tuple[tuple[int, int], ...]
    kept: tuple[int, ...]
    hits: frozenset[int]

    def sentence(self, index: int) -> str:
        start, end = self.spans[index]
        return self.text[start:end].strip()

    def runs(self) -> list[list[int]]:
        """Kept sentence indexes, grouped into runs of neighbours."""
        groups: list[list[int]] = []
        for index in self.kept:
            if groups and groups[-1][-1] == index - 1:
                groups[-1].append(index)
            else:
                groups.append([index])
        return groups


@dataclass(frozen=True)
class Excerpt:
    """What the prefilter keeps of one call or ticket, with the customer text around it
    (for checking the model's quotes against the source)."""

    source: Source
    source_id: str
    account_id: str
    occurred_at: datetime
    units: tuple[Unit, ...]  # every customer unit, kept sentences or not
    attendees: tuple[Attendee, ...] = ()

    @property
    def kept(self) -> bool:
        return any(u.kept for u in self.units)

    def kept_text(self) -> str:
        return " ".join(u.sentence(i) for u in self.units for i in u.kept)

    @property
    def tokens_total(self) -> int:
        return sum(estimate_tokens(u.text) for u in self.units)

    @property
    def tokens_kept(self) -> int:
        return estimate_tokens(self.kept_text())


class Prefilter:
    """Expansion-shaped sentences (and `context` neighbours) of customer text."""

    def __init__(self, taxonomy: Taxonomy, context: int = 1,
                 lexicon: Lexicon = "sharp") -> None:
        if lexicon not in LEXICONS:
            raise ValueError(f"lexicon {lexicon!r}: one of {', '.join(LEXICONS)}")
        self.context = context
        self.lexicon = lexicon
        self.vocabulary = taxonomy_vocabulary(taxonomy)
        taxonomy_words = [re.escape(w) + r"(?:s|es|ed|ing|d)?"
                          for w in sorted(self.vocabulary, key=len, reverse=True)]
        if lexicon == "broad":
            self._alone = words([*BROAD, *taxonomy_words])
            self._objects = self._cues = None
        else:
            self._alone = words(STANDALONE)
            self._objects = words([*OBJECTS, *taxonomy_words])
            self._cues = words(CUES)
        self._not_cues = words(NOT_CUES)
        # Whatever the rule extractor would match (triggers and negative examples) is
        # kept too, however common its words.
        self._phrases = compile_any(p for sku in taxonomy.skus
                                    for p in [*sku.call_triggers, *sku.negatives])

    def is_expansion_shaped(self, sentence: str, cue: bool = True) -> bool:
        """Whether `sentence` is sent to a model. `cue=False` (ticket text, which is a
        request by nature) lets an expansion object stand without an intent cue."""
        if self.lexicon == "all":
            return True
        folded = fold(sentence)
        if self._alone.search(folded) or (
                self._phrases is not None and self._phrases.search(folded)):
            return True
        if self._objects is None or self._cues is None:
            return False
        # An object and a cue, never one word read as both ("the pricing page").
        text = _mask(self._not_cues, folded)
        if not cue:
            return bool(self._objects.search(text))
        return any(self._objects.search(text[:m.start()] + " " * (m.end() - m.start())
                                        + text[m.end():])
                   for m in self._cues.finditer(text))

    def unit(self, text: str, speaker: Attendee | None, cue: bool = True) -> Unit:
        spans = tuple(sentence_spans(text))
        hits = frozenset(i for i, (s, e) in enumerate(spans)
                         if text[s:e].strip() and self.is_expansion_shaped(text[s:e], cue))
        kept = sorted({j for i in hits
                       for j in range(i - self.context, i + self.context + 1)
                       if 0 <= j < len(spans) and text[spans[j][0]:spans[j][1]].strip()})
        return Unit(text, speaker, spans, tuple(kept), hits)

    def call(self, call: Call) -> Excerpt:
        return Excerpt(
            source="call", source_id=call.call_id, account_id=call.account_id,
            occurred_at=call.occurred_at,
            units=tuple(self.unit(t.text, t.speaker) for t in customer_turns(call)),
            attendees=tuple(call.attendees),
        )

    def ticket(self, ticket: Ticket) -> Excerpt:
        return Excerpt(
            source="ticket", source_id=ticket_id(ticket), account_id=ticket.account_id,
            occurred_at=ticket.opened_at,
            units=(self.unit(ticket.subject, None, cue=False),
                   self.unit(ticket.body_summary, None, cue=False)),
        )


def taxonomy_vocabulary(taxonomy: Taxonomy) -> frozenset[str]:
    """The distinctive words of what the taxonomy calls expansion: call-trigger words,
    SKU ids, usage features, ticket tags and subjects. Negative examples and the
    conditional guard add none: alone, "if" or "downgrade" is not expansion-shaped."""
    texts: list[str] = []
    for sku in taxonomy.skus:
        texts.append(sku.id)
        texts += _phrase_texts(sku.call_triggers)
        texts += sku.ticket_tags + sku.ticket_subjects
        texts += [f for t in sku.usage_triggers for f in t.features]
    words = {w for text in texts for w in re.findall(r"[a-z0-9]+", fold(text))}
    return frozenset(w for w in words if w not in COMMON and len(w) > 1 and not w.isdigit())


def _phrase_texts(phrases: Iterable[Phrase]) -> list[str]:
    out: list[str] = []
    for phrase in phrases:
        for part in phrase.parts:
            if part.kind == "lit":
                out.append(part.text)
            elif part.kind == "choice":
                out += part.choices
    return out
