"""The phrase grammar of contract §4: literal words, `{name}` slots and `{a, b, c}` choices.

Literal text and choices are folded (lower case, contractions expanded) exactly as the
transcripts are, so "we'd consider" in the taxonomy matches "We would consider" said on
a call and the other way round.
"""

from __future__ import annotations

import re

from esd.references.schema import Phrase, PhrasePart
from esd.text import fold

# The seed's conditional markers: a sentence holding one is a hypothetical, never a
# signal (contract §5.3). The rule extractor's guard, the prompt and `esd check` share them.
MARKERS = ("if", "would", "considering", "thinking about")

# Defaults of the team-editable lists (contract §4, §5.3). A list the taxonomy writes
# replaces its default; `esd init` writes these out so the team sees them.
# A conditional marker inside one of these phrases does not fire ("we'd love to", folded
# "we would love to", is a polite ask, not a hypothetical).
NOT_CONDITIONAL = ("if I am honest", "to be honest", "if possible", "if you could",
                   "would you", "could you", "would love", "would like", "would appreciate",
                   "would be great")
# Negation cues within five words before a match, or after it, in the same clause.
NEGATION_BEFORE = ("not", "no longer", "never", "no need for", "without", "stopped",
                   "cancelled", "canceled", "removed", "turned off", "got rid of",
                   "ripped out", "dropped", "moved off", "no plans for", "no interest in",
                   "already have", "already got", "already added", "already bought")
NEGATION_AFTER = ("is not something we need", "is not a priority", "we ripped that out",
                  "we already have", "no,", "is not needed", "is off the table",
                  "was removed", "we turned off", "we dropped", "is already sorted",
                  "is already done", "never came up", "does not apply", "do not need",
                  "no longer")

_BRACED = re.compile(r"(\{[^{}]*\})")
_WORD = re.compile(r"\w")


def parse_phrase(text: str, line: int) -> Phrase | str:
    """A Phrase, or the message saying why `text` is not one."""
    parts: list[PhrasePart] = []
    for piece in _BRACED.split(text):
        if not piece:
            continue
        if piece.startswith("{") and piece.endswith("}"):
            inner = piece[1:-1].strip()
            if not inner:
                return f'empty placeholder "{{}}" in phrase "{text}"'
            if "," in inner:
                choices = [fold(c.strip()) for c in inner.split(",")]
                if not all(_WORD.search(c) for c in choices):
                    return f'empty choice in "{piece}" of phrase "{text}"'
                parts.append(PhrasePart(kind="choice", choices=choices))
            else:
                parts.append(PhrasePart(kind="slot", text=inner))
        elif "{" in piece or "}" in piece:
            return f'unbalanced "{{" or "}}" in phrase "{text}"'
        elif _WORD.search(piece):
            parts.append(PhrasePart(kind="lit", text=fold(piece)))
    if not any(p.kind in ("lit", "choice") for p in parts):
        return f'phrase "{text}" has no literal word to search for'
    return Phrase(text=text, line=line, parts=parts)


def default_phrases(texts: tuple[str, ...]) -> list[Phrase]:
    """esd's default phrases (line 0: they are not in the file)."""
    out = [parse_phrase(t, 0) for t in texts]
    return [p for p in out if isinstance(p, Phrase)]


def effective(team: list[Phrase] | None, defaults: tuple[str, ...]) -> list[Phrase]:
    """The team's list where the taxonomy has one, else esd's defaults."""
    return default_phrases(defaults) if team is None else team
