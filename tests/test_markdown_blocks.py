"""The reference parsers read Markdown blocks with markdown-it's inline rule off
(esd.references.markdown): the blocks must be exactly those of a full parse, on every
Markdown file of the repository and on inline markup that could change a block's text."""

from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from esd.references import markdown

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted(p for p in ROOT.rglob("*.md")
               if not {".venv", ".git", "node_modules"} & set(p.parts))

TRICKY = """# Heading with `code` and **bold** (example)

- "phrase one" / "phrase `two`" [a link](https://example.com) <b>html</b>
  - nested *emphasis* and a hard break\\
    continued line
1. ordered \\*escaped\\* & entity &amp; ![img](x.png)

| SKU | Trigger | Notes |
|---|---|---|
| `sso` | "need **SSO**" | a \\| pipe |

Para with trailing spaces\x20\x20
and a soft break, `unclosed code
"""


def _full(text: str, monkeypatch: pytest.MonkeyPatch) -> list[markdown.Block]:
    """The blocks of `text` with every markdown-it rule on, never from the cache."""
    with monkeypatch.context() as patch:
        patch.setattr(markdown, "_markdown", lambda: MarkdownIt("commonmark").enable("table"))
        return markdown._parse(text.replace("\r\n", "\n").replace("\r", "\n"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_block_parse_equals_full_parse(path: Path, monkeypatch) -> None:
    text = path.read_text(encoding="utf-8")
    assert markdown._parse(text.replace("\r\n", "\n")) == _full(text, monkeypatch)


def test_inline_markup_keeps_block_text(monkeypatch) -> None:
    blocks = markdown._parse(TRICKY)
    assert blocks == _full(TRICKY, monkeypatch)
    assert blocks[0].text == "Heading with `code` and **bold** (example)"
    assert [b.kind for b in blocks].count("row") == 2
    assert blocks[-1].text.startswith("Para with trailing spaces")


def test_inline_rule_is_off() -> None:
    tokens = markdown._markdown().parse("a *b* `c`")
    inline = [t for t in tokens if t.type == "inline"]
    assert inline and all(not t.children for t in inline)
    assert len(FILES) > 20  # the repository's reference files were found
