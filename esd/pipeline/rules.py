"""The rule-based extractor: the taxonomy's phrases, compiled once, over customer words.

Speed comes from doing the expensive work only around hits: each call's customer
utterances are folded and scanned once with one combined pattern of every call
trigger; only an utterance with a hit is split into sentences, and only a sentence
with a hit is tested per SKU against triggers, negative examples and the conditional
guard (contract §5.3).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence

from esd.models import Call, Mention, Ticket
from esd.pipeline.extract import Progress, Turn, customer_turns, ticket_id
from esd.references.schema import Phrase, Taxonomy
from esd.text import fold, sentence_spans

# Between two words of a phrase: any run of non-word characters, but never the
# separator that joins utterances, so no match spans two speakers.
_SEP = r"[^\w\x00]+"
_JOIN = "\x00"
# A `{slot}` is one to four words or a number.
_SLOT = rf"\w+(?:{_SEP}\w+){{0,3}}"
MARKERS = ("if", "would", "considering", "thinking about")


def phrase_pattern(phrase: Phrase) -> str:
    """The regex source of one phrase: whole words, flexible separators."""
    pieces: list[str] = []
    for part in phrase.parts:
        if part.kind == "lit":
            pieces.extend(re.escape(w) for w in re.findall(r"\w+", part.text))
        elif part.kind == "choice":
            options = [_SEP.join(re.escape(w) for w in re.findall(r"\w+", c))
                       for c in part.choices]
            pieces.append("(?:" + "|".join(o for o in options if o) + ")")
        else:
            pieces.append(_SLOT)
    return r"(?<!\w)" + _SEP.join(pieces) + r"(?!\w)"


def compile_any(phrases: Iterable[Phrase]) -> re.Pattern[str] | None:
    sources = sorted({phrase_pattern(p) for p in phrases})
    return re.compile("|".join(f"(?:{s})" for s in sources)) if sources else None


def _offsets(text: str) -> list[int]:
    positions, pos = [], text.find(_JOIN)
    while pos != -1:
        positions.append(pos)
        pos = text.find(_JOIN, pos + 1)
    return positions


class RuleExtractor:
    """Literal-phrase extraction with the negative-example and conditional guards."""

    name = "rules"

    def __init__(self, taxonomy: Taxonomy) -> None:
        self._any = compile_any(p for sku in taxonomy.skus for p in sku.call_triggers)
        self._skus = [
            (sku.id, compile_any(sku.call_triggers), compile_any(sku.negatives))
            for sku in taxonomy.skus if sku.call_triggers
        ]
        markers = [re.escape(m).replace(r"\ ", _SEP) for m in MARKERS]
        guard = [phrase_pattern(p) for p in taxonomy.conditional_patterns]
        self._conditional = re.compile(
            "|".join([r"(?<!\w)(?:" + "|".join(markers) + r")(?!\w)", *guard]))

    def extract(
        self, calls: Sequence[Call], tickets: Sequence[Ticket], progress: Progress | None = None
    ) -> list[Mention]:
        mentions: list[Mention] = []
        if self._any is None:
            return mentions
        for call in calls:
            mentions.extend(self._scan(customer_turns(call), call.account_id, call.call_id,
                                       "call", call.occurred_at))
            if progress:
                progress(1)
        for ticket in tickets:
            units = [Turn(ticket.subject, None), Turn(ticket.body_summary, None)]
            mentions.extend(self._scan(units, ticket.account_id, ticket_id(ticket), "ticket",
                                       ticket.opened_at))
            if progress:
                progress(1)
        return mentions

    def _scan(self, units: list[Turn], account_id: str, source_id: str, source: str,
              occurred_at) -> list[Mention]:
        if not units:
            return []
        folded = fold(_JOIN.join(u.text.replace(_JOIN, " ") for u in units))
        hits = [m.start() for m in self._any.finditer(folded)]
        if not hits:
            return []
        offsets = _offsets(folded)
        hit_units = {bisect_right(offsets, start) for start in hits}
        out: list[Mention] = []
        for index in sorted(hit_units):
            unit = units[index]
            for start, end in sentence_spans(unit.text):
                sentence = unit.text[start:end].strip()
                folded_sentence = fold(sentence)
                if not self._any.search(folded_sentence):
                    continue
                for sku_id, triggers, negatives in self._skus:
                    trigger = triggers.search(folded_sentence)
                    if not trigger:
                        continue
                    reason = None
                    if negatives is not None and negatives.search(folded_sentence):
                        reason = "negative-example"
                    elif self._conditional.search(folded_sentence):
                        reason = "conditional"
                    speaker = unit.speaker
                    out.append(Mention(
                        account_id=account_id, sku=sku_id, source=source, source_id=source_id,
                        quote=sentence, trigger=trigger.group(0), occurred_at=occurred_at,
                        speaker=speaker.name if speaker else None,
                        speaker_title=speaker.label if speaker else None,
                        label="not_signal" if reason else "signal", reason=reason,
                    ))
        return out
