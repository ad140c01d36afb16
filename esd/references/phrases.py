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
