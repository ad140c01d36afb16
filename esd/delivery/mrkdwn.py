"""A rendered digest (Markdown) as Slack Block Kit messages (contract §11, api-notes §6).

Slack's mrkdwn is not Markdown: `*bold*`, `_italic_`, `~strike~`, `<url|label>`, no
headings. Everything the digest says is escaped (`&`, `<`, `>`) before esd adds any
markup of its own, so a customer sentence holding `<!channel>`, `<@U123>` or
`<http://x|y>` arrives as literal text. Markdown links become `<url|label>` only outside
source text: never between the quotes a template puts around a customer sentence
("..."), where a link would let a customer hide where it points, and in a `> ` quote
line only after its closing quote mark (where the digest links the call id to the
call's page; a quote line without quote marks links nothing). Bare URLs are left to
Slack's auto-linking.

Limits (api-notes §6): 50 blocks a message, 3,000 characters a section, an undocumented
cap near 13k characters of blocks a message. A digest that does not fit is split at
line boundaries, then across messages; no text is ever dropped.
"""

from __future__ import annotations

import re
from collections.abc import Collection

SECTION_LIMIT = 3_000
HEADER_LIMIT = 150
MAX_BLOCKS = 50
MESSAGE_BUDGET = 12_000  # characters of block text a message, under Slack's ~13k cap
BLOCK_COST = 50  # what each block's JSON container is counted as, against the budget
FALLBACK_LIMIT = 3_000

_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_QUOTE = re.compile(r"^ {0,3}(?:>\s?)+(.*)$")
_BULLET = re.compile(r"^(\s*)[-*+]\s+(.*)$")
_RULE = re.compile(r"^ {0,3}([-*_])(?:\s*\1){2,}\s*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
# Atoms that emphasis must not touch: code spans, Markdown links, bare URLs.
# A Markdown backslash escape (ASCII punctuation; `<`, `>`, `&` already as entities):
# the digest writes source text this way, so it must come out as the bare character.
_ESCAPED = r"\\(?:&lt;|&gt;|&amp;|[!-/:-@\[-`{-~])"
_ATOM = re.compile(
    rf"(?P<esc>{_ESCAPED})"
    r"|(?P<code>(?P<ticks>`+)(?!`).+?(?<!`)(?P=ticks)(?!`))"
    r"|(?P<link>\[(?P<label>[^\[\]]+)\]\((?P<url>(?:https?://|mailto:)[^\s()]+)\))"
    # A bare URL stops before trailing punctuation, so `**https://x**` stays bold.
    r"|(?P<bare>https?://\S+?(?=[*_~).,;:!?'\"\]]*(?:\s|$)))")
_EMPHASIS = re.compile(
    r"(?<![\w*])\*\*(?=\S)(?P<b>.+?)(?<=\S)\*\*(?![\w*])"
    r"|(?<![\w_])__(?=\S)(?P<u>.+?)(?<=\S)__(?![\w_])"
    r"|(?<![\w*])\*(?=[^\s*])(?P<i>.+?)(?<=[^\s*])\*(?![\w*])"
    r"|~~(?=\S)(?P<s>.+?)(?<=\S)~~")
_PLACEHOLDER = re.compile("\x00(\\d+)\x00")
_QUOTE_OPEN, _QUOTE_CLOSE = "\"\u201c", "\"\u201d"


def signal_sections(markdown: str, signal_ids: Collection[str]) -> list[tuple[str, str | None]]:
    """The digest cut at its headings into (text, signal id) pieces, in order (contract
    §12): a heading-led part that names exactly one of `signal_ids` stands alone, so a
    reaction on its message belongs to that signal; the parts between them stay
    together (None). No line is dropped or reordered."""
    wanted = {i for i in signal_ids if i}
    pieces: list[list[str]] = [[]]
    fence = False
    for line in markdown.split("\n"):
        if _FENCE.match(line):
            fence = not fence
        if not fence and _HEADING.match(line) and pieces[-1]:
            pieces.append([])
        pieces[-1].append(line)
    out: list[tuple[str, str | None]] = []
    for lines in pieces:
        text = "\n".join(lines)
        named = {i for i in wanted if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", text)}
        sid = named.pop() if len(named) == 1 else None
        if sid is None and out and out[-1][1] is None:
            out[-1] = (out[-1][0] + "\n" + text, None)
        else:
            out.append((text, sid))
            wanted.discard(sid or "")
    return [(text, sid) for text, sid in out if text.strip()]


def escape(text: str) -> str:
    """Slack's three control characters as entities, `&` first."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_blocks(markdown: str) -> list[list[dict]]:
    """The digest as Slack messages, each a list of at most 50 blocks."""
    messages: list[list[dict]] = []
    current: list[dict] = []
    spent = 0
    for block in _blocks(markdown):
        cost = _cost(block)
        if current and (len(current) == MAX_BLOCKS or spent + cost > MESSAGE_BUDGET):
            messages.append(current)
            current, spent = [], 0
        current.append(block)
        spent += cost
    if current:
        messages.append(current)
    return messages


def fallback_text(markdown: str) -> str:
    """The message's notification text: the title line and the line after it (the
    counts), escaped; at most 3,000 characters."""
    lines = [line.strip() for line in markdown.splitlines()]
    title_at = next((i for i, line in enumerate(lines) if _HEADING.match(line)), None)
    if title_at is None:
        picked = [_structure(line) for line in lines if line][:2]
    else:
        after = [line for line in lines[title_at + 1:] if line and not _HEADING.match(line)]
        title = _HEADING.match(lines[title_at]).group(2)
        picked = [_line(title), *(_structure(line) for line in after[:1])]
    text = "\n".join(picked)
    if len(text) > FALLBACK_LIMIT:
        text = text[:_safe_cut(text, FALLBACK_LIMIT - 1)].rstrip() + "…"
    return text


def _blocks(markdown: str) -> list[dict]:
    """One section per heading-delimited part (split to fit), a header for `# `."""
    blocks: list[dict] = []
    lines: list[str] = []

    def flush() -> None:
        while lines and not lines[-1].strip():
            lines.pop()
        blocks.extend(_section(text) for text in _pack(lines))
        lines.clear()

    fence = None
    for raw in markdown.replace("\x00", "\ufffd").splitlines():
        raw = raw.rstrip()
        if fence:  # code: kept verbatim (escaped), closed the way Slack writes it
            closing = raw.strip().startswith(fence) and set(raw.strip()) == {fence[0]}
            lines.append("```" if closing else escape(raw))
            fence = None if closing else fence
            continue
        if opened := _FENCE.match(raw):
            fence = opened.group(1)
            # mrkdwn has no language hint: one shows as the first line of the code
            lines.append("```" + escape(raw.strip()[3:]))
            continue
        if heading := _HEADING.match(raw):
            flush()
            level, title = len(heading.group(1)), heading.group(2)
            plain = _plain(title)
            if level == 1 and 0 < len(plain) <= HEADER_LIMIT:
                blocks.append({"type": "header",
                               "text": {"type": "plain_text", "text": plain, "emoji": True}})
            elif title:
                lines.append(f"*{_line(title)}*")
            continue
        if _RULE.match(raw):
            flush()
            blocks.append({"type": "divider"})
            continue
        if not raw.strip() and (not lines or not lines[-1]):
            continue  # no leading or doubled blank lines inside a section
        lines.append(_structure(raw))
    flush()
    return blocks


def _structure(raw: str) -> str:
    """One Markdown line as mrkdwn: quote marker, bullet, then inline markup."""
    if quote := _QUOTE.match(raw):
        # A quote line links only after its closing quote mark (the call id the digest
        # links to the call's page); a line with no quote marks links nothing.
        return "> " + _line(quote.group(1), links=_source_spans(quote.group(1)) is not None)
    if bullet := _BULLET.match(raw):
        return bullet.group(1) + "• " + _line(bullet.group(2))
    return _line(raw)


def _line(raw: str, links: bool = True) -> str:
    """Escape, then translate inline Markdown into mrkdwn."""
    text = escape(raw)
    source = _source_spans(text)
    atoms: list[str] = []

    def atom(match: re.Match) -> str:
        piece = match.group(0)
        if match.group("esc"):
            piece = piece[1:]
        elif match.group("code"):
            ticks = match.group("ticks")
            inner = piece[len(ticks):-len(ticks)]
            piece = f"`{inner.strip()}`" if len(ticks) > 1 and "`" not in inner else piece
        elif match.group("link") and links and not _inside(match.start(), source):
            url = match.group("url").replace("|", "%7C")
            piece = f"<{url}|{match.group('label')}>"
        atoms.append(piece)
        return f"\x00{len(atoms) - 1}\x00"

    text = _emphasis(_ATOM.sub(atom, text))
    return _PLACEHOLDER.sub(lambda m: atoms[int(m.group(1))], text)


def _emphasis(text: str) -> str:
    def swap(match: re.Match) -> str:
        if match.group("b") is not None:
            return f"*{_emphasis(match.group('b'))}*"
        if match.group("u") is not None:
            return f"*{_emphasis(match.group('u'))}*"
        if match.group("i") is not None:
            return f"_{_emphasis(match.group('i'))}_"
        return f"~{_emphasis(match.group('s'))}~"

    return _EMPHASIS.sub(swap, text)


def _plain(raw: str) -> str:
    """A heading as plain_text (a header block): markup removed, nothing escaped,
    since Slack parses no mrkdwn there. Backslash-escaped characters are kept as text."""
    kept: list[str] = []

    def keep(match: re.Match) -> str:
        kept.append(match.group(0)[1:])
        return f"\x00{len(kept) - 1}\x00"

    text = re.sub(r"\\[!-/:-@\[-`{-~]", keep, raw.replace("\x00", "\ufffd"))
    text = re.sub(r"\[([^\[\]]+)\]\(([^\s()]+)\)", r"\1 (\2)", text)
    text = re.sub(r"(`+)(.+?)\1", r"\2", text)
    text = re.sub(r"(?<![\w*_])(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1(?![\w*_])", r"\2", text)
    return _PLACEHOLDER.sub(lambda m: kept[int(m.group(1))], text)


def _source_spans(text: str) -> tuple[int, int] | None:
    """From the first opening quote mark to the last closing one: where a template puts
    a customer's words."""
    start = min((i for i in (text.find(q) for q in _QUOTE_OPEN) if i >= 0), default=-1)
    end = max(text.rfind(q) for q in _QUOTE_CLOSE)
    return (start, end) if 0 <= start < end else None


def _inside(position: int, span: tuple[int, int] | None) -> bool:
    return span is not None and span[0] < position < span[1]


def _pack(lines: list[str]) -> list[str]:
    """Lines joined into section texts of at most SECTION_LIMIT characters."""
    texts: list[str] = []
    current = ""
    for line in _fit_lines(lines):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= SECTION_LIMIT:
            current = candidate
            continue
        if current.strip():
            texts.append(current.rstrip())
        current = line if line.strip() else ""
    if current.strip():
        texts.append(current.rstrip())
    return texts


def _fit_lines(lines: list[str]) -> list[str]:
    """Every line at most SECTION_LIMIT long: an overlong one split at a space (a quote
    keeps its `> ` marker on each piece)."""
    out: list[str] = []
    for line in lines:
        prefix = "> " if line.startswith("> ") else ""
        while len(line) > SECTION_LIMIT:
            cut = _safe_cut(line, SECTION_LIMIT, floor=len(prefix))
            out.append(line[:cut].rstrip())
            line = prefix + line[cut:].lstrip(" ")
        out.append(line)
    return out


def _safe_cut(text: str, limit: int, floor: int = 0) -> int:
    """Where to cut `text` so the head is at most `limit` long and longer than `floor`:
    the last space outside any esd link, else the limit itself moved back out of an
    entity or link (kept whole unless it alone is longer than the limit)."""
    guarded = [(m.start(), m.end()) for m in re.finditer(r"<[^<>]*>|&\w+;", text)
               if m.start() < limit]

    def inside(i: int) -> bool:
        return any(start < i < end for start, end in guarded)

    space = text.rfind(" ", floor + 1, limit + 1)
    while space > floor:
        if not inside(space):
            return space
        space = text.rfind(" ", floor + 1, space)
    cut = limit
    for start, end in guarded:
        if start < cut < end and start > floor:
            cut = start
    return cut


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _cost(block: dict) -> int:
    return len(block.get("text", {}).get("text", "")) + BLOCK_COST
