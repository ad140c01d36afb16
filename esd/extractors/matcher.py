"""Which utterances may hold a call trigger, and which triggers: the rule extractor's
scan, cheap where nothing is said (issue 16).

A trigger phrase compiles to a regex over folded text (`phrase_pattern`: whole words,
flexible separators). Each pattern starts with a look-behind (no word character
before the match), and a pattern that starts with an assertion leaves `re` no literal
to skip ahead to: it tries every position of the text. `literal_first` writes the same
pattern with the look-behind moved behind the first word (`export(?<!\\wexport)...`),
so `re` finds candidates at C speed; the two match exactly the same spans.

The scan of one call's customer utterances (`TriggerIndex.candidates`), joined by a
separator no pattern crosses:
1. the lower-cased text is searched for every phrase's *key* (a literal word that
   folding cannot change, see `anchor_groups`) in one Aho-Corasick pass (ahocorasick-rs:
   two to three times faster than a `str.find` per key, which it falls back to);
2. a phrase whose key is there stays a candidate only if its other anchor words are
   there too;
3. the folded text is then searched with each candidate's own literal-first pattern,
   and each match names its utterance.
What survives is exactly the utterances a trigger matches (a match in a sentence is a
match in its utterance), and the sentence and guard code decide the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from esd.references.schema import Phrase
from esd.text import LazyPattern, fold

try:  # one pass over a call for every key word (a pyproject dependency)
    from ahocorasick_rs import AhoCorasick
except ImportError:  # pragma: no cover - the same keys, found one str.find at a time
    AhoCorasick = None

# Between two words of a phrase: any run of non-word characters, but never the
# separator that joins utterances, so no match spans two speakers.
SEP = r"[^\w\x00]+"
JOIN = "\x00"
# A `{slot}` is one to four words or a number.
_SLOT = rf"\w+(?:{SEP}\w+){{0,3}}"
# Words that folding can produce: never safe as an anchor in the raw text.
_FOLD_WORDS = frozenset({"would", "are", "will", "have", "am", "not", "cannot"})


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


def phrase_pattern(phrase: Phrase) -> str:
    """The regex source of one phrase: whole words, flexible separators."""
    return r"(?<!\w)" + _compose(phrase, lead=False)


def literal_first(phrase: Phrase) -> str:
    """`phrase_pattern(phrase)` with its leading look-behind moved behind the first word:
    `(?<!\\w)word` and `word(?<!\\wword)` accept the same positions, and the second lets
    `re` skip ahead to the literal. A phrase that starts with a slot keeps the form."""
    first = next((p for p in phrase.parts if p.kind != "lit" or _words(p.text)), None)
    if first is None or first.kind == "slot" or (
            first.kind == "choice" and not all(_words(c) for c in first.choices)):
        return phrase_pattern(phrase)
    return _compose(phrase, lead=True)


def _compose(phrase: Phrase, lead: bool) -> str:
    """The words, choices and slots of `phrase` joined by separators, then "no word
    character after". With `lead`, the first word (of each option of a leading choice)
    carries the "no word character before" look-behind."""
    pieces: list[str] = []
    for part in phrase.parts:
        if part.kind == "lit":
            for w in _words(part.text):
                pieces.append(_word(w, lead))
                lead = False
        elif part.kind == "choice":
            options = [SEP.join(_word(w, lead and i == 0) for i, w in enumerate(_words(c)))
                       for c in part.choices]
            pieces.append("(?:" + "|".join(o for o in options if o) + ")")
            lead = False
        else:
            pieces.append(_SLOT)
    return SEP.join(pieces) + r"(?!\w)"


def _word(word: str, lead: bool) -> str:
    escaped = re.escape(word)
    return escaped + rf"(?<!\w{escaped})" if lead else escaped


def anchor_groups(phrase: Phrase) -> list[set[str]] | None:
    """Groups of strings such that, wherever the phrase matches the folded text, the
    lower-cased raw text holds one string of *every* group (a literal word is a group
    of one; a choice is the group of its options' words). Longest groups first; None
    if the phrase has no word that folding leaves unchanged."""
    groups: list[set[str]] = []
    for part in phrase.parts:
        if part.kind == "slot":
            continue
        if part.kind == "lit":
            groups.extend({w} for w in _words(part.text) if w not in _FOLD_WORDS)
            continue
        picked = set()
        for option in part.choices:
            safe = [w for w in _words(option) if w not in _FOLD_WORDS]
            if not safe:
                break
            picked.add(max(safe, key=len))
        else:
            groups.append(picked)
    if not groups:
        return None
    return sorted(groups, key=lambda g: -min(map(len, g)))


def compile_any(phrases: Iterable[Phrase]) -> LazyPattern | None:
    """One pattern matching any of `phrases` (compiled when first used)."""
    sources = sorted({phrase_pattern(p) for p in phrases})
    return LazyPattern("|".join(f"(?:{s})" for s in sources)) if sources else None


# Anchor words too common for the automaton (see TriggerIndex.__init__).
_COMMON = frozenset({
    "a", "an", "the", "and", "or", "but", "of", "to", "in", "on", "at", "by", "for",
    "with", "from", "as", "is", "was", "be", "we", "our", "us", "you", "your", "it",
    "its", "they", "them", "their", "this", "that", "i", "my", "me", "do", "not", "no",
    "all", "any", "some", "can", "have", "has", "had", "get", "so", "more", "new", "out",
    "use", "up",
})


class _Contains:
    """`word in text`, for a text searched without the automaton."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __contains__(self, word: str) -> bool:
        return word in self.text


class Trigger(NamedTuple):
    """One call-trigger phrase of one SKU."""

    sku: str
    text: str  # as written in the taxonomy
    pattern: LazyPattern  # literal-first, over folded text
    groups: tuple[tuple[str, ...], ...]  # anchor groups, the key group first; () for none


class TriggerIndex:
    """The call triggers of a taxonomy, keyed for the scan of the module docstring."""

    def __init__(self, triggers: Iterable[tuple[str, Phrase]]) -> None:
        self.triggers: list[Trigger] = []
        self._keys: dict[str, list[int]] = {}  # key word -> triggers keyed by it
        self._always: list[int] = []  # triggers without an anchor: every utterance
        for sku, phrase in triggers:
            groups = anchor_groups(phrase)
            index = len(self.triggers)
            self.triggers.append(Trigger(sku, phrase.text, LazyPattern(literal_first(phrase)),
                                         tuple(tuple(sorted(g)) for g in groups or ())))
            if groups is None:
                self._always.append(index)
            else:
                for word in groups[0]:
                    self._keys.setdefault(word, []).append(index)
        # The automaton finds the keys and the other anchor words, all but the commonest
        # (found at once by `in`, they would flood it with matches).
        others = {w for t in self.triggers for g in t.groups[1:] for w in g} - _COMMON
        self._words = [*self._keys, *sorted(others - self._keys.keys())]
        self.automaton = AhoCorasick(self._words) if AhoCorasick and self._words else None

    def __bool__(self) -> bool:
        return bool(self.triggers)

    def candidates(self, texts: Sequence[str]) -> dict[int, list[Trigger]]:
        """Per utterance index, the triggers whose pattern matches the folded utterance
        (only utterances with at least one), in taxonomy order."""
        if not texts:
            return {}
        low = JOIN.join(texts).lower()
        if low.count(JOIN) != len(texts) - 1:  # an utterance holds the separator itself
            return self._one_by_one(texts)
        present = self._present(low)
        keyed = set(self._always)
        for word, indexes in self._keys.items():
            if word in present:
                keyed.update(indexes)
        possible = [i for i in sorted(keyed) if self._others_in(i, low, present)]
        if not possible:
            return {}
        # Folding the joined text folds each utterance: the separator is no word
        # character, as the ends of a text are not, and no pattern crosses it.
        folded = fold(low)
        found: dict[int, list[Trigger]] = {}
        for i in possible:
            trigger = self.triggers[i]
            for match in trigger.pattern.finditer(folded):
                hits = found.setdefault(folded.count(JOIN, 0, match.start()), [])
                if not hits or hits[-1] is not trigger:
                    hits.append(trigger)
        return found

    def _present(self, low: str) -> set[str] | _Contains:
        """The automaton's words that `low` holds (all occurrences: one word never hides
        another); without the automaton, `low` itself answers `in`."""
        if self.automaton is None:
            return _Contains(low)
        words = self._words
        return {words[m[0]] for m in self.automaton.find_matches_as_indexes(
            low, overlapping=True)}

    def _others_in(self, index: int, low: str, present: set[str] | _Contains) -> bool:
        """Whether `low` holds a word of each of trigger `index`'s other anchor groups."""
        for group in self.triggers[index].groups[1:]:
            if not any(w in (low if w in _COMMON else present) for w in group):
                return False
        return True

    def _one_by_one(self, texts: Sequence[str]) -> dict[int, list[Trigger]]:
        found = {}
        for unit, text in enumerate(texts):
            folded = fold(text)
            hits = [t for t in self.triggers if t.pattern.search(folded)]
            if hits:
                found[unit] = hits
        return found
