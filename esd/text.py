"""Text normalisation shared by the phrase compiler and the extractor (contract §5.3):
lower case, contraction folding, and sentence boundaries."""

from __future__ import annotations

import re

_CONTRACTION = re.compile(r"\b(can|won)['’]t\b|n['’]t\b|['’](d|re|ll|ve|m)\b")
_EXPANSIONS = {"d": " would", "re": " are", "ll": " will", "ve": " have", "m": " am"}


def _expand(match: re.Match[str]) -> str:
    whole, suffix = match.group(1), match.group(2)
    if whole:
        return "cannot" if whole == "can" else "will not"
    if suffix:
        return _EXPANSIONS[suffix]
    return " not"


def fold(text: str) -> str:
    """Lower-case `text` and expand contractions (`we'd` -> `we would`, `don't` -> `do not`).

    Sentence terminators and whitespace are never added or removed, so sentence *i* of
    the folded text is sentence *i* of the original.
    """
    return _CONTRACTION.sub(_expand, text.lower())


# A sentence ends at . ! or ? followed by whitespace (or at the end of the utterance).
SENTENCE_END = re.compile(r"[.!?](?=\s)")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence in `text`, end exclusive, covering the whole text."""
    spans, start = [], 0
    for m in SENTENCE_END.finditer(text):
        spans.append((start, m.end()))
        start = m.end()
    spans.append((start, len(text)))
    return spans



def words(text: str) -> set[str]:
    """Lower-case alphanumeric words (underscores split words: `seat_count` -> seat, count)."""
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def squash(text: str) -> str:
    """Whitespace runs as one space, ends stripped: how quotes are compared and shown."""
    return " ".join(text.split())
