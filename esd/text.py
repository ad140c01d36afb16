"""Text normalisation shared by the phrase compiler and the extractor (contract §5.3):
lower case, contraction folding, and sentence boundaries."""

from __future__ import annotations

import re

# Every contraction holds an apostrophe, so each pattern starts at one (a literal `re`
# skips ahead to: a class of both apostrophes, or a look-behind first, makes it try
# every character) and looks behind for what comes before: `can't` after a word
# boundary, `won't`, `n't`; or a suffix follows. Contractions never overlap, so these
# are the matches of `\b(can|won)['’]t\b|n['’]t\b|['’](d|re|ll|ve|m)\b`, found in a
# fifth of the time (issue 16; tests/test_scan_differential.py compares the two).
_CONTRACTIONS = {a: re.compile(rf"{a}(?:(?<=\bcan{a})(t)\b|(?<=\bwon{a})(t)\b|(?<=n{a})(t)\b"
                               rf"|(d|re|ll|ve|m)\b)") for a in "'’"}
_EXPANSIONS = {"d": " would", "re": " are", "ll": " will", "ve": " have", "m": " am"}


def fold(text: str) -> str:
    """Lower-case `text` and expand contractions (`we'd` -> `we would`, `don't` -> `do not`).

    Sentence terminators and whitespace are never added or removed, so sentence *i* of
    the folded text is sentence *i* of the original.
    """
    lower = text.lower()
    found = [m for apostrophe, pattern in _CONTRACTIONS.items() if apostrophe in lower
             for m in pattern.finditer(lower)]
    if not found:
        return lower
    if "'" in lower and "’" in lower:
        found.sort(key=re.Match.start)
    out, last = [], 0
    for match in found:
        at = match.start()
        can, won, nt, suffix = match.groups()
        if can or won:
            start, said = at - 3, "cannot" if can else "will not"
        else:
            start, said = (at - 1, " not") if nt else (at, _EXPANSIONS[suffix])
        out += (lower[last:start], said)
        last = match.end()
    out.append(lower[last:])
    return "".join(out)


# A sentence ends at . ! or ? followed by whitespace (or at the end of the utterance),
# except after a common abbreviation or a single initial, and inside an ellipsis (§5.3).
SENTENCE_END = re.compile(r"[.!?](?=\s)")
ABBREVIATIONS = frozenset({"mr.", "mrs.", "ms.", "dr.", "e.g.", "i.e.", "etc.", "vs.",
                           "approx."})
_LONGEST_TOKEN = max(len(a) for a in ABBREVIATIONS)
# The word before a full stop, without opening brackets or quotes: "(e.g." -> "e.g.".
_LAST_WORD = re.compile(r"[^\s(\[\"'“‘]+$")
# A single initial ("J. Smith"). Either case: folding lower-cases the text, and sentence
# *i* of the folded text must stay sentence *i* of the original.
_INITIAL = re.compile(r"^[^\W\d_]\.$")


def _ends_sentence(text: str, end: int) -> bool:
    """Whether the terminator at text[end - 1] ends a sentence."""
    if text[end - 1] != ".":
        return True
    if text[max(0, end - 3):end] == "...":
        return False
    # Only the last few characters can hold an abbreviation or an initial: searching from
    # the start of the text at every full stop made long calls quadratic.
    start = max(0, end - _LONGEST_TOKEN - 1)
    word = _LAST_WORD.search(text, start, end)
    if word is None:
        return True
    if word.start() == start and start > 0 and _LAST_WORD.match(text[start - 1]):
        return True  # the word runs on before the window: longer than any abbreviation
    token = word.group(0).lower()
    return token not in ABBREVIATIONS and not _INITIAL.match(token)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence in `text`, end exclusive, covering the whole text."""
    spans, start = [], 0
    for m in SENTENCE_END.finditer(text):
        if _ends_sentence(text, m.end()):
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


class LazyPattern:
    """`re.compile(source)`, done on first use. A taxonomy compiles to a few hundred
    patterns, most of which a small week never needs (the sentence patterns of phrases
    no call says, the guards of sentences never reached); compiling them all up front
    was a tenth of a 200-account dry run (issue 16). After the first use, the
    pattern's methods are this object's own attributes: no further indirection."""

    _METHODS = ("search", "match", "fullmatch", "finditer", "findall", "split", "sub")

    def __init__(self, source: str) -> None:
        self.source = source

    def __getattr__(self, name: str):
        if name.startswith("_") or name == "source":  # copy, pickle: not a pattern's
            raise AttributeError(name)
        compiled = re.compile(self.source)
        for method in self._METHODS:
            setattr(self, method, getattr(compiled, method))
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"LazyPattern({self.source!r})"
