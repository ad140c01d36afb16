"""Unfilled placeholders and example links in the reference files (contract §4): what
`esd check` reports so that no team goes live on a template's words or example links.

Each is one finding with its file and line:

- a `<FILL: hint>` marker, as `esd init` writes them (`<FILL: …>` with only an ellipsis
  names the syntax in the files' own instructions and is not one);
- a braced template placeholder where it cannot be a phrase slot: a `SKU: {your_next_sku}`
  or `Segment: {name}` heading, `{YYYY-MM-DD}`, and `{link}` (or any `{…}`) in a row of
  the action library;
- a link to a host under example.com, example.org or example.net (RFC 2606).

They are findings of `esd check` only: `run` and `dry-run` go on (rule 5.6). A problem
the parser or the linter reports on the line of a `<FILL: …>` marker is a consequence
of the marker (a heading that is no SKU id yet, a band that is no number yet), so
`settle` shows the marker's finding in its place.
"""

from __future__ import annotations

import re
from pathlib import Path

from esd.references.schema import Problem

MARKER = re.compile(r"<FILL:\s*(?P<hint>[^<>]*?)\s*>")
_SYNTAX = ("…", "...")  # `<FILL: …>`: the marker's own name in the instructions
_STUB_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(?P<title>(?:SKU|Segment)\s*:\s*\{[^{}]*\})",
                           re.IGNORECASE)
_DATE_STUB = re.compile(r"\{YYYY-MM-DD\}", re.IGNORECASE)
_BRACED = re.compile(r"\{[^{}]*\}")
_EXAMPLE_HOST = re.compile(
    r"(?<![@\w.-])(?:https?://)?(?P<host>(?:[a-z0-9-]+\.)*example\.(?:com|org|net))\b",
    re.IGNORECASE)
ACTIONS = "3-action-library.md"


def unfilled(directory: Path, names: tuple[str, ...]) -> list[Problem]:
    """Every placeholder and example link of the reference files `names` in
    `directory` (those that exist), in file and line order."""
    found: list[Problem] = []
    for name in names:
        path = directory / name
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            found += _in_file(str(path), text, actions=name == ACTIONS)
    return found


def _in_file(file: str, text: str, actions: bool) -> list[Problem]:
    found = []
    fenced = False
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        if fenced:
            continue
        for message in _in_line(line, actions):
            found.append(Problem(file=file, line=number, message=message))
    return found


def _in_line(line: str, actions: bool) -> list[str]:
    messages = []
    for m in MARKER.finditer(line):
        if m.group("hint") not in _SYNTAX:
            messages.append(f"unfilled placeholder {m.group(0)}: replace it, angle brackets "
                            "included, with your team's own value")
    stub = _STUB_HEADING.match(line)
    if stub:
        messages.append(f'template section "{stub.group("title")}": name it (one of your '
                        "own) or delete the section")
    for m in _DATE_STUB.finditer(line):
        messages.append(f"unfilled placeholder {m.group(0)}: write the date of the last "
                        "edit as YYYY-MM-DD")
    if actions and line.lstrip().startswith("|"):
        for m in _BRACED.finditer(line):
            messages.append(f"action row holds the template placeholder {m.group(0)}: "
                            "write the real link or words in its place")
    for m in _EXAMPLE_HOST.finditer(line):
        messages.append(f"link to the example host {m.group('host')}: point it at a page "
                        "of your own (a CSM opens it from the Slack digest)")
    return messages


def settle(problems: list[Problem], holes: list[Problem]) -> list[Problem]:
    """`holes` first, then the other problems, less those on the line of a `<FILL: …>`
    marker (the marker's finding already points there)."""
    marked = {(h.file, h.line) for h in holes if h.message.startswith("unfilled placeholder <")}
    return [*holes, *(p for p in problems if (p.file, p.line) not in marked)]
