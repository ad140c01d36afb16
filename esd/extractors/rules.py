"""The rule-based extractor: the taxonomy's phrases, compiled once, over customer words.

Speed comes from doing the expensive work only around hits (issue 16). Each call's
customer utterances go through the trigger index of `matcher.py`: a `str.find` for each
phrase's anchor word, then that phrase's own literal-first pattern over the folded
utterance. Only an utterance that holds a match there is split into sentences, and only
there do the exact patterns run: per SKU, triggers, negative examples, negation and the
conditional guard (contract §5.3; the guards live in `guards.py`).
"""

from __future__ import annotations

from collections.abc import Sequence

from esd.extractors.base import Progress
from esd.extractors.guards import ConditionalGuard, NegationGuard, answered_no
from esd.extractors.matcher import (
    SEP,
    Trigger,
    TriggerIndex,
    anchor_groups,
    compile_any,
    phrase_pattern,
)
from esd.extractors.transcript import Turn, customer_turns, slim, ticket_id
from esd.models import Call, Mention, Ticket
from esd.references.schema import Taxonomy
from esd.text import LazyPattern, fold, sentence_spans

__all__ = ["RuleExtractor", "anchor_groups", "compile_any", "conditional_pattern",
           "phrase_pattern"]


def conditional_pattern(taxonomy: Taxonomy) -> ConditionalGuard:
    """The conditional guard over folded text (its `search` is truthy on a conditional
    sentence): the seed's markers (if, would, considering, thinking about) outside the
    Not conditional phrases, and the taxonomy's conditional-guard patterns."""
    return ConditionalGuard(taxonomy, phrase_pattern, SEP)


class RuleExtractor:
    """Literal-phrase extraction with the negative-example, negation and conditional
    guards."""

    name = "rules"

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.index = TriggerIndex((sku.id, p) for sku in taxonomy.skus
                                  for p in sku.call_triggers)
        self._skus = [
            (sku.id, compile_any(sku.call_triggers), compile_any(sku.negatives))
            for sku in taxonomy.skus if sku.call_triggers
        ]
        # Which taxonomy phrase a trigger match is (esd report counts by phrase): looked
        # up only on a hit, so the scan itself keeps one pattern per SKU.
        self._phrases = {sku.id: [(LazyPattern(phrase_pattern(p)), p.text)
                                  for p in sku.call_triggers] for sku in taxonomy.skus}
        self._conditional = conditional_pattern(taxonomy)
        self._negation = NegationGuard(taxonomy, phrase_pattern)

    def extract(
        self, calls: Sequence[Call], tickets: Sequence[Ticket], progress: Progress | None = None
    ) -> list[Mention]:
        mentions: list[Mention] = []
        if not self.index:
            return mentions
        for call in calls:
            mentions.extend(self._scan(customer_turns(call), call.account_id, call.call_id,
                                       "call", call.occurred_at))
            if progress:
                progress.advance()
        for ticket in tickets:
            units = [Turn(ticket.subject, None), Turn(ticket.body_summary, None)]
            mentions.extend(self._scan(units, ticket.account_id, ticket_id(ticket), "ticket",
                                       ticket.opened_at))
            if progress:
                progress.advance()
        return mentions

    def slim(self, call: Call) -> Call:
        """`call` holding only the customer utterances this extractor can find a trigger
        in (`esd.extractors.transcript.slim`): what it extracts from it is unchanged."""
        return slim(call, lambda texts: self.index.candidates(texts).keys())

    def _scan(self, units: list[Turn], account_id: str, source_id: str, source: str,
              occurred_at) -> list[Mention]:
        found = self.index.candidates([u.text for u in units])
        out: list[Mention] = []
        for index in sorted(found):
            unit = units[index]
            out.extend(self._unit(unit, found[index], account_id, source_id, source,
                                  occurred_at))
        return out

    def _unit(self, unit: Turn, candidates: list[Trigger], account_id: str, source_id: str,
              source: str, occurred_at) -> list[Mention]:
        """The mentions of one utterance that holds a match of `candidates` (and of no
        other trigger): sentence by sentence, each SKU with a candidate judged whole."""
        patterns = list({t.pattern: None for t in candidates})
        skus = {t.sku for t in candidates}
        sentences = [unit.text[a:b].strip() for a, b in sentence_spans(unit.text)]
        folded_all = [fold(s) for s in sentences]
        out: list[Mention] = []
        for i, sentence in enumerate(sentences):
            folded_sentence = folded_all[i]
            if not any(p.search(folded_sentence) for p in patterns):
                continue
            answer = folded_all[i + 1] if i + 1 < len(folded_all) else None
            denied = answered_no(folded_sentence, answer)
            for sku_id, triggers, negatives in self._skus:
                if sku_id not in skus:
                    continue
                trigger, reason = self._verdict(folded_sentence, triggers, negatives, denied)
                if not trigger:
                    continue
                speaker = unit.speaker
                out.append(Mention(
                    account_id=account_id, sku=sku_id, source=source, source_id=source_id,
                    quote=sentence, trigger=trigger.group(0), occurred_at=occurred_at,
                    phrase=self._phrase(sku_id, trigger.group(0)),
                    speaker=speaker.name if speaker else None,
                    speaker_title=speaker.label if speaker else None,
                    label="not_signal" if reason else "signal", reason=reason,
                ))
        return out

    def _phrase(self, sku_id: str, matched: str) -> str | None:
        return next((text for pattern, text in self._phrases.get(sku_id, ())
                     if pattern.fullmatch(matched)), None)

    def _verdict(self, folded: str, triggers: LazyPattern,
                 negatives: LazyPattern | None, denied: bool):
        """(trigger match, reason) of a SKU in one sentence, reasons in the contract's
        order; the first match the negation guard leaves standing, else the first."""
        matches = list(triggers.finditer(folded))
        if not matches:
            return None, None
        if negatives is not None and negatives.search(folded):
            return matches[0], "negative-example"
        if denied:
            return matches[0], "negated"
        standing = [m for m in matches if not self._negation.negated(folded, *m.span())]
        if not standing:
            return matches[0], "negated"
        if self._conditional.search(folded):
            return standing[0], "conditional"
        return standing[0], None
