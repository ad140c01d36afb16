"""The fast transcript parse gives what the straightforward one gave.

`formats._lines` splits a plain transcript with `re.split` at candidate speaker lines
(a greedy name, no match objects). `_scan_lines` below is the algorithm it replaced: one
`_HEAD` match object per candidate line, the lines that name a speaker kept. On any
text, both must return the same segments.
"""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from esd.extractors import formats
from esd.extractors.formats import _HEAD, _LEAD_TS, Segment, _name, to_ms


def _scan_lines(text: str, known: frozenset[str]) -> list[Segment]:
    """The replaced `_lines` (after its line-break normalisation)."""
    names: dict[str, str | None] = {}
    heads = [m for m in _HEAD.finditer(text) if _name(m["name"], known, False, names)]
    out: list[Segment] = []
    ends = [m.start() for m in heads[1:]] + [len(text)] * bool(heads)
    for m, end in zip(heads, ends, strict=True):
        name, rest, ts1, ts2, title = m.group("name", "rest", "ts1", "ts2", "title")
        more = text[m.end():end]
        if "[" in more:
            more = _LEAD_TS.sub("", more)
        stamp = ts1 or ts2
        out.append(Segment((rest + more).rstrip("\n"), names[name],
                           to_ms(stamp) if stamp else None,
                           " ".join(title.split()) or None if title is not None else None))
    preamble = text[: heads[0].start() if heads else len(text)].strip("\n")
    return ([Segment(preamble)] if preamble.strip() else []) + out

_PIECES = [
    "Priya Shah", "priya shah", "Tom", "Dr. Ana Ruiz", "Zoe (VP Data)", "Zoe ( VP  Data )",
    "Zoe ()", "[00:12:34] Tom", "00:12:34 Tom", "12:34 Tom", "[1:02.5] Ana", "Call 2",
    "note", "one two three four five six", "Ana\t", "Ana  ", "  Ana", "Ana [x]", "A<b>",
    "9 Lives", "Tom(CEO)", "",
]
_TAILS = [": hello.", ":hi", ":2:30 pm", ": we need more seats", ":", ": [00:01] x",
          " no colon here", ": a: b", "\t:\tx", " :  y", ": (aside)"]
_JOINS = ["\n", "\n\n", "\r\n", "\n[00:00:05] ", "\n   ", "\u2028", "\n[00:05] more\n"]


def _text(rng: random.Random) -> str:
    out = []
    for _ in range(rng.randint(0, 12)):
        out.append(rng.choice(_PIECES) + rng.choice(_TAILS))
        out.append(rng.choice(_JOINS))
    return ("\ufeff" if rng.random() < 0.05 else "") + "".join(out)


def _both(text: str, known: frozenset[str]) -> None:
    # _lines first turns other line breaks into "\n", as _scan_lines expects.
    other = any(c in text for c in "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
    body = "\n".join(text.splitlines()) if other else text
    assert formats._lines(text, known) == _scan_lines(body, known)


def test_split_path_matches_the_line_scan_on_generated_transcripts():
    rng = random.Random(20261123)
    for _ in range(3000):
        known = frozenset(rng.sample(["priya shah", "note", "tom", "ana"], rng.randint(0, 2)))
        _both(_text(rng), known)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("Ab z:()[]<>\t\n\r.0129,-")), max_size=80),
       st.sets(st.sampled_from(["ab", "a b", "z", "b"])))
def test_split_path_matches_the_line_scan_on_arbitrary_text(text, known):
    _both(text, frozenset(known))
