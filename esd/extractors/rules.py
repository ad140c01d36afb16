"""The rule-based extractor: the taxonomy's phrases, compiled once, over customer words.

Speed comes from doing the expensive work only around hits. Folding only ever turns
contractions into a few words (would, are, will, have, am, not, cannot), so every
phrase has an *anchor*: a literal word that reads the same in the raw text. Each
call's customer words are lower-cased once and searched for the anchors with
`str.find` (C speed, no regex); only an utterance holding an anchor is folded and
split into sentences, and only there do the exact patterns run: per SKU, triggers,
negative examples, negation and the conditional guard (contract §5.3; the guards live
in `guards.py`).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence

from esd.extractors.base import Progress
from esd.extractors.guards import ConditionalGuard, NegationGuard, answered_no
from esd.extractors.transcript import Turn, customer_turns, ticket_id
from esd.models import Call, Mention, Ticket
from esd.references.schema import Phrase, Taxonomy
from esd.text import fold, sentence_spans

# Between two words of a phrase: any run of non-word characters, but never the
# separator that joins utterances, so no match spans two speakers.
_SEP = r"[^\w\x00]+"
_JOIN = "\x00"
# A `{slot}` is one to four words or a number.
_SLOT = rf"\w+(?:{_SEP}\w+){{0,3}}"


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


# Words that folding can produce: never safe as an anchor in the raw text.
_FOLD_WORDS = frozenset({"would", "are", "will", "have", "am", "not", "cannot"})


def anchor_groups(phrase: Phrase) -> list[set[str]] | None:
    """Groups of strings such that, wherever the phrase matches the folded text, the
    lower-cased raw text holds one string of *every* group (a literal word is a group
    of one; a choice is the group of its options' words). Longest groups first; None
    if the phrase has no word that folding leaves unchanged."""
    groups: list[set[str]] = []
    for part in phrase.parts:
        options = [part.text] if part.kind == "lit" else part.choices
        if part.kind == "slot":
            continue
        if part.kind == "lit":
            groups.extend({w} for w in re.findall(r"\w+", part.text) if w not in _FOLD_WORDS)
            continue
        picked = set()
        for option in options:
            safe = [w for w in re.findall(r"\w+", option) if w not in _FOLD_WORDS]
            if not safe:
                break
            picked.add(max(safe, key=len))
        else:
            groups.append(picked)
    if not groups:
        return None
    return sorted(groups, key=lambda g: -min(map(len, g)))


def compile_any(phrases: Iterable[Phrase]) -> re.Pattern[str] | None:
    sources = sorted({phrase_pattern(p) for p in phrases})
    return re.compile("|".join(f"(?:{s})" for s in sources)) if sources else None


def conditional_pattern(taxonomy: Taxonomy) -> ConditionalGuard:
    """The conditional guard over folded text (its `search` is truthy on a conditional
    sentence): the seed's markers (if, would, considering, thinking about) outside the
    Not conditional phrases, and the taxonomy's conditional-guard patterns."""
    return ConditionalGuard(taxonomy, phrase_pattern, _SEP)


def _find_all(text: str, needle: str) -> list[int]:
    positions, pos = [], text.find(needle)
    while pos != -1:
        positions.append(pos)
        pos = text.find(needle, pos + 1)
    return positions


class RuleExtractor:
    """Literal-phrase extraction with the negative-example, negation and conditional
    guards."""

    name = "rules"

    def __init__(self, taxonomy: Taxonomy) -> None:
        triggers = [p for sku in taxonomy.skus for p in sku.call_triggers]
        self._any = compile_any(triggers)
        found = [anchor_groups(p) for p in triggers]
        # One phrase without an anchor means every utterance must be folded and scanned.
        self._anchors = None if any(g is None for g in found) else found
        self._skus = [
            (sku.id, compile_any(sku.call_triggers), compile_any(sku.negatives))
            for sku in taxonomy.skus if sku.call_triggers
        ]
        # Which taxonomy phrase a trigger match is (esd report counts by phrase): looked
        # up only on a hit, so the scan itself keeps one pattern per SKU.
        self._phrases = {sku.id: [(re.compile(phrase_pattern(p)), p.text)
                                  for p in sku.call_triggers] for sku in taxonomy.skus}
        self._conditional = conditional_pattern(taxonomy)
        self._negation = NegationGuard(taxonomy, phrase_pattern)

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
                progress.advance()
        for ticket in tickets:
            units = [Turn(ticket.subject, None), Turn(ticket.body_summary, None)]
            mentions.extend(self._scan(units, ticket.account_id, ticket_id(ticket), "ticket",
                                       ticket.opened_at))
            if progress:
                progress.advance()
        return mentions

    def _hit_units(self, units: list[Turn]) -> set[int]:
        """Indexes of the units that may hold a trigger (a superset; sentences decide)."""
        if self._anchors is None:
            folded = fold(_JOIN.join(u.text.replace(_JOIN, " ") for u in units))
            starts = [m.start() for m in self._any.finditer(folded)]
        else:
            folded = _JOIN.join(u.text.replace(_JOIN, " ") for u in units).lower()
            # A phrase is possible only where all its groups occur; locate its first group.
            starts = [pos for groups in self._anchors
                      if all(any(w in folded for w in g) for g in groups)
                      for w in groups[0] for pos in _find_all(folded, w)]
        if not starts:
            return set()
        offsets = _find_all(folded, _JOIN)
        return {bisect_right(offsets, start) for start in starts}

    def _scan(self, units: list[Turn], account_id: str, source_id: str, source: str,
              occurred_at) -> list[Mention]:
        if not units:
            return []
        hit_units = self._hit_units(units)
        out: list[Mention] = []
        for index in sorted(hit_units):
            unit = units[index]
            sentences = [unit.text[a:b].strip() for a, b in sentence_spans(unit.text)]
            folded_all = [fold(s) for s in sentences]
            for i, sentence in enumerate(sentences):
                folded_sentence = folded_all[i]
                if not self._any.search(folded_sentence):
                    continue
                answer = folded_all[i + 1] if i + 1 < len(folded_all) else None
                denied = answered_no(folded_sentence, answer)
                for sku_id, triggers, negatives in self._skus:
                    trigger, reason = self._verdict(folded_sentence, triggers, negatives,
                                                    denied)
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

    def _verdict(self, folded: str, triggers: re.Pattern[str],
                 negatives: re.Pattern[str] | None, denied: bool):
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
