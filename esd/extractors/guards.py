"""The sentence guards of contract §5.3 over folded text: the conditional guard (with its
Not-conditional exemptions) and the NegEx-style negation guard.

Negation looks for a cue of the taxonomy's Negation cues section within five words
before a match ("we no longer need SAML") or after it ("SAML is not a priority for us"),
in the same clause: a clause ends at `,` `;` `but` `however` `although` or the end of the
sentence, so "we do not need SAML, but SCIM is a must" negates SAML only. A question whose
next sentence answers "no" ("PagerDuty? No, we dropped it.") is negated too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from esd.references.phrases import (
    MARKERS,
    NEGATION_AFTER,
    NEGATION_BEFORE,
    NOT_CONDITIONAL,
    effective,
)
from esd.references.schema import Phrase, Taxonomy
from esd.text import LazyPattern

WINDOW = 5  # words between a cue and the match: at most WINDOW - 1
_CLAUSE_END = re.compile(r"[,;]|(?<!\w)(?:but|however|although)(?!\w)")
_WORD = re.compile(r"\w+")
# A before-cue right after a negation is a double negation, a requirement: "we cannot go
# live without SAML" (NegEx's pseudo-negation).
_DOUBLE = re.compile(r"(?<!\w)(?:not|cannot|never|no)(?!\w)")
_ANSWER_NO = re.compile(r"^\W*(?:no|nope|not really)(?!\w)")


def _compile(sources: Iterable[str]) -> LazyPattern | None:
    unique = sorted(set(sources))
    return LazyPattern("|".join(f"(?:{s})" for s in unique)) if unique else None


class ConditionalGuard:
    """`search(folded)` is truthy when the sentence is conditional: a guard pattern, or
    a marker (if, would, considering, thinking about) that is not part of a phrase of
    the Not conditional list ("if I'm honest", "we'd love to", "would you send ...")."""

    def __init__(self, taxonomy: Taxonomy, phrase_pattern, sep: str) -> None:
        markers = [re.escape(m).replace(r"\ ", sep) for m in MARKERS]
        self._markers = re.compile(r"(?<!\w)(?:" + "|".join(markers) + r")(?!\w)")
        self._guard = _compile(phrase_pattern(p) for p in taxonomy.conditional_patterns)
        polite = effective(taxonomy.not_conditional, NOT_CONDITIONAL)
        self._polite = _compile(phrase_pattern(p) for p in polite)

    def search(self, folded: str) -> re.Match[str] | None:
        if self._guard is not None:
            found = self._guard.search(folded)
            if found:
                return found
        exempt = [m.span() for m in self._polite.finditer(folded)] if self._polite else []
        for marker in self._markers.finditer(folded):
            if not any(a <= marker.start() and marker.end() <= b for a, b in exempt):
                return marker
        return None


def cue_pattern(phrase: Phrase, phrase_pattern) -> str:
    """A cue's regex: the phrase grammar, plus trailing punctuation the cue spells out
    (`no,` is "no" followed by a comma, not any "no")."""
    source = phrase_pattern(phrase)
    trail = re.search(r"[^\w\s}]+$", phrase.text.strip())
    if trail:
        source = source.removesuffix(r"(?!\w)") + r"\s*" + re.escape(trail.group(0))
    return source


class NegationGuard:
    """Whether a match at [start, end) of a folded sentence is negated."""

    def __init__(self, taxonomy: Taxonomy, phrase_pattern) -> None:
        before = effective(taxonomy.negation_before, NEGATION_BEFORE)
        after = effective(taxonomy.negation_after, NEGATION_AFTER)
        self._before = _compile(cue_pattern(p, phrase_pattern) for p in before)
        self._after = _compile(cue_pattern(p, phrase_pattern) for p in after)

    def negated(self, folded: str, start: int, end: int) -> bool:
        clause_start = max((m.end() for m in _CLAUSE_END.finditer(folded, 0, start)),
                           default=0)
        after_end = next((m.start() for m in _CLAUSE_END.finditer(folded, end)), len(folded))
        if self._before is not None:
            for cue in self._before.finditer(folded, clause_start, start):
                if len(_WORD.findall(folded, cue.end(), start)) < WINDOW \
                        and not self._double(folded, clause_start, cue):
                    return True
        if self._after is not None:
            for cue in self._after.finditer(folded, end):
                if cue.start() >= after_end:
                    break
                if len(_WORD.findall(folded, end, cue.start())) < WINDOW:
                    return True
        return False


    @staticmethod
    def _double(folded: str, clause_start: int, cue: re.Match[str]) -> bool:
        """Whether a negation stands within five words before the cue, same clause."""
        before = _WORD.findall(folded, clause_start, cue.start())[-WINDOW:]
        return any(_DOUBLE.fullmatch(w) for w in before)


def answered_no(folded_question: str, folded_next: str | None) -> bool:
    """A question ("PagerDuty?") whose next sentence of the same utterance begins with
    no, nope or not really."""
    return (folded_question.rstrip().endswith("?") and folded_next is not None
            and bool(_ANSWER_NO.match(folded_next)))
