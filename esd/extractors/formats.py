"""The forms a `transcript_text` comes in (contract §2), read into speaker segments
before any speaker is matched to an attendee:

- plain lines `Speaker Name: words`, each optionally led by a timestamp (`[00:12:34]`,
  `00:12:34`, `12:34`) and with an optional parenthesised title before the colon;
- a WebVTT export (first line `WEBVTT`): `<v Name>` voice tags or `Name:` at a cue's
  start (Teams and Zoom), read with webvtt-py;
- an SRT export, read with the `srt` parser.

Cue formats split one person's speech across many cues, often mid-sentence, so
consecutive cues of one speaker become one segment (timed by its first cue): a trigger
phrase that runs over a cue boundary still matches.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import NamedTuple

TIMESTAMP = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
# A speaker line: [timestamp] one to five capitalised words [(title)] ":" words. A colon
# followed by a digit is a time ("Call 2:30"), not a speaker's colon.
_HEAD = re.compile(
    rf"^[ \t]*(?:\[(?P<ts1>{TIMESTAMP})\][ \t]*|(?P<ts2>{TIMESTAMP})[ \t]+)?"
    r"(?P<name>[^\s:()\[\]<>][^:()\[\]<>\n]*?)[ \t]*"
    r"(?:\((?P<title>[^()\n]*)\)[ \t]*)?:(?!\d)[ \t]?(?P<rest>.*)$", re.MULTILINE)
# The same speaker lines for `re.split`, each with the line break before it (the text
# is split with a line break put in front): the whole candidate line's head captured
# and no further, so the text between two matches is one segment's words (the rest of
# the line and its continuation lines, without the last line break). The name is
# greedy: it cannot cross "(" or ":", so a match differs from `_HEAD`'s only by
# trailing blanks in the name, which `_name` drops (backtracking a lazy name character
# by character made `_HEAD` the costliest step of a week's parse). The leading line
# break is a literal `re` skips ahead to; `^` in MULTILINE mode is tried at every
# character, and took twice as long (issue 16).
_SPLIT = re.compile(
    rf"\n([ \t]*(?:\[({TIMESTAMP})\][ \t]*|({TIMESTAMP})[ \t]+)?"
    r"([^\s:()\[\]<>][^:()\[\]<>\n]*)"
    r"(?:\(([^()\n]*)\)[ \t]*)?:(?!\d)[ \t]?)")
_LEAD_TS = re.compile(rf"^[ \t]*\[(?P<ts>{TIMESTAMP})\][ \t]*", re.MULTILINE)
# Line breaks other than "\n" that str.splitlines also splits at.
_OTHER_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_VOICE = re.compile(r"^<v(?:\.[\w-]+)*[ \t]+(?P<name>[^>]*?)[ \t]*>")
_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_SRT_START = re.compile(r"^\s*(?:\d+\s*\n)?\s*\d+:\d{2}:\d{2}[,.]\d{1,3}\s*-->", re.ASCII)
MAX_NAME_WORDS = 5


class TranscriptFormatError(ValueError):
    """A WebVTT export that cannot be read; the caller names the call and field."""


class Segment(NamedTuple):
    """One stretch of speech as written: `label` is the speaker with timestamp and title
    removed (None: no speaker given), `title` the parenthesised title if any."""

    text: str
    label: str | None = None
    start_ms: int | None = None
    title: str | None = None


def read_segments(text: str, known: frozenset[str] = frozenset()) -> list[Segment]:
    """The segments of a `transcript_text` in whichever form it is written. `known` holds
    the lower-cased attendee names, which start a line even when not capitalised."""
    body = text.lstrip("\ufeff")
    if body.lstrip().startswith("WEBVTT"):
        return _merge(_vtt(body, known))
    if _SRT_START.match(body):
        return _merge(_srt(body, known))
    return _lines(body, known)


def speaker_head(line: str, known: frozenset[str] = frozenset(),
                 any_case: bool = False) -> Segment | None:
    """The segment a line opens when it names a speaker (contract §2's line rule), or
    None when it continues the previous utterance. `any_case`: at a cue's start, where
    Zoom writes display names as people typed them ("iPhone de Marcus", "jdoe"), any one
    to five words before the colon name the speaker."""
    m = _HEAD.match(line)
    return None if m is None else _opened(m, known, any_case, {})


def _opened(m: re.Match[str], known: frozenset[str], any_case: bool,
            names: dict[str, str | None]) -> Segment | None:
    """The segment of a `_HEAD` match, None when its name fails the line rule."""
    name = _name(m["name"], known, any_case, names)
    if name is None:
        return None
    stamp = m["ts1"] or m["ts2"]
    title = " ".join(m["title"].split()) if m["title"] is not None else None
    return Segment(m["rest"], name, to_ms(stamp) if stamp else None, title or None)


def _name(raw: str, known: frozenset[str], any_case: bool,
          names: dict[str, str | None]) -> str | None:
    """The speaker name of a candidate line, None when it fails the line rule (one to
    five words, each capitalised or a digit, unless a known attendee's). `names` keeps
    each raw name's verdict: a call repeats a few speakers many times."""
    if raw not in names:
        name = " ".join(raw.split())
        words = name.split(" ")
        capitalised = 1 <= len(words) <= MAX_NAME_WORDS and (any_case or all(
            w[0].isupper() or w[0].isdigit() for w in words))
        names[raw] = name if capitalised or name.lower() in known else None
    return names[raw]


def to_ms(stamp: str) -> int:
    """`12:34` (minutes, seconds), `00:12:34` or `00:12:34.500` in milliseconds."""
    main, _, frac = stamp.replace(",", ".").partition(".")
    parts = [int(p) for p in main.split(":")]
    seconds = parts[-1] + 60 * parts[-2] + (3600 * parts[-3] if len(parts) == 3 else 0)
    return seconds * 1000 + (int(frac.ljust(3, "0")[:3]) if frac else 0)


class Speech(NamedTuple):
    """A transcript's segments as columns (`read_speech`): a week's pass over every call
    needs a few of them as segments, and all of their speakers."""

    texts: list[str]
    labels: list[str | None]
    starts: list[int | None]
    titles: list[str | None]

    def segments(self) -> list[Segment]:
        new = tuple.__new__  # a long call has thousands of lines: skip the NamedTuple frame
        return [new(Segment, row) for row in zip(*self, strict=True)]


def read_speech(text: str, known: frozenset[str] = frozenset()) -> Speech:
    """`read_segments(text, known)` as columns."""
    body = text.lstrip("\ufeff")
    if body.lstrip().startswith("WEBVTT") or _SRT_START.match(body):
        segments = read_segments(text, known)
        return Speech(*(list(column) for column in zip(*segments, strict=True))) \
            if segments else Speech([], [], [], [])
    return _columns(body, known)


def _lines(text: str, known: frozenset[str]) -> list[Segment]:
    return _columns(text, known).segments()


def _columns(text: str, known: frozenset[str]) -> Speech:
    """Plain `Name:` lines. One split of the whole text at the candidate speaker lines;
    the text between two speaker lines continues the first (without leading timestamps),
    and a candidate line whose name fails the line rule continues the one before."""
    if any(c in text for c in "\r\x0b\x0c\x1c\x1d\x1e") or (
            not text.isascii() and _OTHER_BREAKS.search(text)):
        text = "\n".join(text.splitlines())  # the lines str.splitlines would give
    names: dict[str, str | None] = {}
    # The preamble, then per candidate line: its head, ts1, ts2, name, title, and the
    # words up to the next candidate line (each without the line break that ends them:
    # a candidate line that does not name a speaker puts it back).
    parts = _SPLIT.split("\n" + text)
    preamble = parts[0]
    ts1s, ts2s, raw, titles, words = (parts[i::6] for i in range(2, 7))
    if not all([_name(name, known, False, names) for name in set(raw)]):
        kept: list[list[str]] = []
        for head, ts1, ts2, name, title, said in zip(*(parts[i::6] for i in range(1, 7)),
                                                     strict=True):
            if names[name] is not None:
                kept.append([ts1, ts2, name, title, said])
            elif kept:
                kept[-1][4] += "\n" + head + said
            else:
                preamble += "\n" + head + said
        ts1s, ts2s, raw, titles, words = (list(c) for c in zip(*kept, strict=True)) \
            if kept else ([], [], [], [], [])
    # Leading timestamps of continuation lines (not of the speaker line) go.
    texts = [(said if "[" not in said else _no_lead_stamps(said)).rstrip("\n")
             for said in words]
    labels = [names[name] for name in raw]
    starts = [to_ms(a or b) if a or b else None for a, b in zip(ts1s, ts2s, strict=True)] \
        if any(ts1s) or any(ts2s) else [None] * len(texts)
    titles = [" ".join(t.split()) or None if t is not None else None for t in titles] \
        if any(t is not None for t in titles) else [None] * len(texts)
    preamble = preamble.strip("\n")
    if preamble.strip():
        return Speech([preamble, *texts], [None, *labels], [None, *starts], [None, *titles])
    return Speech(texts, labels, starts, titles)


def _no_lead_stamps(said: str) -> str:
    line, nl, more = said.partition("\n")
    return line + _LEAD_TS.sub("", nl + more)


def _vtt(text: str, known: frozenset[str]) -> list[Segment]:
    import webvtt  # imported by the few runs that read a WebVTT export
    from webvtt.errors import MalformedCaptionError, MalformedFileError

    try:
        captions = webvtt.from_string(text, strict=True)
    except (MalformedFileError, MalformedCaptionError) as exc:
        raise TranscriptFormatError(f"malformed WebVTT: {exc}") from None
    out: list[Segment] = []
    for caption in captions:
        out.extend(_cue(caption.lines, caption.start_time.in_milliseconds(), known))
    return out


def _srt(text: str, known: frozenset[str]) -> list[Segment]:
    import srt  # imported by the few runs that read an SRT export

    out: list[Segment] = []
    for sub in srt.parse(text, ignore_errors=True):
        out.extend(_cue(sub.content.splitlines(), _ms(sub.start), known))
    return out


def _ms(delta: timedelta) -> int:
    return delta // timedelta(milliseconds=1)


def _cue(lines: list[str], start_ms: int, known: frozenset[str]) -> list[Segment]:
    """One cue's segments: a voice tag on any line, or `Name:` on its first line, names
    the speaker; untagged text continues the previous speaker (label None here)."""
    out: list[Segment] = []
    for i, raw in enumerate(lines):
        voice = _VOICE.match(raw)
        line = _TAG.sub("", raw).strip()
        if voice:
            out.append(Segment(line, " ".join(voice["name"].split()) or None, start_ms))
            continue
        head = speaker_head(line, known, any_case=True) if i == 0 else None
        if head is not None:
            out.append(Segment(head.text.strip(), head.label, start_ms, head.title))
        elif out:
            last = out[-1]
            out[-1] = Segment(f"{last.text} {line}".strip(), last.label, last.start_ms,
                              last.title)
        elif line:
            out.append(Segment(line, None, start_ms))
    return out


def _merge(segments: list[Segment]) -> list[Segment]:
    """Join each cue to the one before when it names the same speaker or none at all."""
    out: list[Segment] = []
    for seg in segments:
        if out and (seg.label is None or seg.label == out[-1].label):
            last = out[-1]
            out[-1] = Segment(f"{last.text} {seg.text}".strip(), last.label, last.start_ms,
                              last.title or seg.title)
        else:
            out.append(seg)
    return [s for s in out if s.text.strip() or s.label]
