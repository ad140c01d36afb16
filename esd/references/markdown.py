"""Turn a Markdown file into flat, line-numbered blocks, and blocks into sections.

The reference files are edited by hand, so the parsers are lenient about layout
(nested or flat bullets, any heading level, an optional "(example)" after a heading)
and precise about where a problem is: every block carries its 1-based line.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

from esd import cache

BlockKind = Literal["heading", "para", "item", "row"]


@dataclass(frozen=True)
class Block:
    kind: BlockKind
    line: int
    text: str = ""
    level: int = 0  # heading level, or list depth for items
    cells: tuple[str, ...] = ()
    header: bool = False  # a table's header row


@dataclass
class Section:
    heading: Block
    title: str  # heading text without markup and without a trailing "(example)"
    body: list[Block] = field(default_factory=list)


@functools.cache
def _markdown():
    """markdown-it, blocks only: each inline token's `content` is its raw text, which is
    all the parsers read, so the core "inline" rule (parsing emphasis, code spans and
    links into children) is off; it was more than half of the parse
    (tests/test_markdown_blocks.py). Imported on a cache miss only."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table").disable("inline")


@functools.cache
def _parser_key() -> bytes:
    """What the blocks of a text depend on besides the text: this module's code and the
    installed markdown-it (its place, size and time: a reinstall changes them)."""
    spec = importlib.util.find_spec("markdown_it")
    origin = Path(spec.origin) if spec and spec.origin else None
    stamp = f"{origin}:{origin.stat().st_size}:{origin.stat().st_mtime_ns}" if origin else ""
    return hashlib.sha256(Path(__file__).read_bytes() + stamp.encode()).digest()


def parse_blocks(text: str) -> list[Block]:
    """Headings, paragraphs, list items and table rows, in document order. A text parsed
    before comes from esd's cache (esd.cache): the reference files change rarely."""
    # markdown-it breaks lines at \r\n, \r and \n: normalise so lines match an editor's.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    name = "blocks-" + hashlib.sha256(_parser_key() + text.encode("utf-8", "surrogatepass")
                                      ).hexdigest() + ".json"
    if (stored := _load(cache.read(name))) is not None:
        return stored
    blocks = _parse(text)
    cache.write(name, json.dumps([[b.kind, b.line, b.text, b.level, b.cells, b.header]
                                  for b in blocks]).encode())
    return blocks


def _load(data: bytes | None) -> list[Block] | None:
    if data is None:
        return None
    try:
        return [Block(kind, line, text, level, tuple(cells), header)
                for kind, line, text, level, cells, header in json.loads(data)]
    except (ValueError, TypeError):  # not what `parse_blocks` writes: parse again
        return None


def _parse(text: str) -> list[Block]:
    tokens = _markdown().parse(text)
    blocks: list[Block] = []
    depth = 0
    in_thead = False
    row: list[str] | None = None
    row_line = 0
    for i, tok in enumerate(tokens):
        kind = tok.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            depth += 1
        elif kind in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
        elif kind == "thead_open":
            in_thead = True
        elif kind == "thead_close":
            in_thead = False
        elif kind == "tr_open":
            row, row_line = [], _line(tok)
        elif kind == "tr_close" and row is not None:
            blocks.append(Block("row", row_line, cells=tuple(row), header=in_thead))
            row = None
        elif kind == "inline":
            prev = tokens[i - 1]
            line = _line(tok) or _line(prev)
            if prev.type == "heading_open":
                blocks.append(Block("heading", line, tok.content, level=int(prev.tag[1:])))
            elif prev.type in ("th_open", "td_open") and row is not None:
                row.append(tok.content.strip())
            elif prev.type == "paragraph_open":
                blocks.append(Block("item" if depth else "para", line, tok.content, level=depth))
    return blocks


def _line(tok) -> int:
    return tok.map[0] + 1 if tok.map else 0


_EXAMPLE = re.compile(r"\s*\((?:example|e\.g\.)\)\s*$", re.IGNORECASE)


def clean_title(text: str) -> str:
    """Heading text without emphasis, backticks, or a trailing "(example)"."""
    text = re.sub(r"[*_`]", "", text).strip()
    return _EXAMPLE.sub("", text).strip()


def sections(blocks: list[Block]) -> list[Section]:
    """Each heading with the blocks under it, up to the next heading of the same or a
    higher level (so a SKU section may hold sub-headings of its own)."""
    out: list[Section] = []
    for i, block in enumerate(blocks):
        if block.kind != "heading":
            continue
        body = []
        for nxt in blocks[i + 1 :]:
            if nxt.kind == "heading" and nxt.level <= block.level:
                break
            body.append(nxt)
        out.append(Section(block, clean_title(block.text), body))
    return out


def is_placeholder(text: str) -> bool:
    """Template placeholders such as `{your_next_sku}`, `{YYYY-MM-DD}` or the
    `<FILL: …>` markers of `esd init` (esd check reports each: `placeholders`)."""
    return ("{" in text and "}" in text) or "<FILL:" in text


_QUOTED = re.compile(r'"([^"]*)"|“([^”]*)”')
_BACKTICKED = re.compile(r"`([^`]*)`")


def quoted(text: str) -> list[str]:
    """Every double-quoted string (straight or curly quotes), in order."""
    return [m.group(1) if m.group(1) is not None else m.group(2) for m in _QUOTED.finditer(text)]


def unbalanced_quotes(text: str) -> bool:
    rest = _QUOTED.sub("", text)
    return '"' in rest or "“" in rest or "”" in rest


def backticked(text: str) -> list[str]:
    return [m.group(1).strip() for m in _BACKTICKED.finditer(text)]


DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def last_edited(blocks: list[Block], problem) -> date | None:
    """The `YYYY-MM-DD` of a "Last edited" section (its heading first, then its body);
    None while it still holds the template's placeholder."""
    for block in blocks:
        text = block.text if block.kind != "heading" else block.text.split(":", 1)[-1]
        m = DATE.search(text)
        if m:
            try:
                return date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                problem(block.line, f"Last edited date {m[0]} is not a real date")
                return None
        if block.kind != "heading" and is_placeholder(text):
            return None
    return None
