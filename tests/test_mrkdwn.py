"""Digest Markdown to Slack Block Kit: markup, escaping, splitting (contract §11)."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from esd.cli import app
from esd.delivery.mrkdwn import (
    BLOCK_COST,
    FALLBACK_LIMIT,
    HEADER_LIMIT,
    MAX_BLOCKS,
    MESSAGE_BUDGET,
    SECTION_LIMIT,
    escape,
    fallback_text,
    to_blocks,
)

DEMO = ROOT / "examples" / "portfolio"


def texts(messages: list[list[dict]], kinds=("section",)) -> list[str]:
    return [b["text"]["text"] for m in messages for b in m if b["type"] in kinds]


def one_text(markdown: str) -> str:
    return "\n".join(texts(to_blocks(markdown), ("section", "header")))


def unquoted(line: str) -> str:
    """A mrkdwn line without its quote marker, the one raw `>` esd may send."""
    return re.sub(r"^>( |$)", "", line)


def alnum(text: str) -> str:
    """Letters and digits in order: what must survive any markup or split."""
    return "".join(re.findall(r"[A-Za-z0-9]", text))


def shown(messages: list[list[dict]]) -> str:
    """What Slack displays: headers as they are, mrkdwn with its three entities decoded
    and a link `<url|label>` as its label (followed by the URL it hides)."""
    return "\n".join(
        b["text"]["text"] if b["type"] == "header" else
        re.sub(r"<([^<>|]+)\|([^<>]+)>", r"\2 (\1)", b["text"]["text"])
        .replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        for m in messages for b in m if b["type"] in ("header", "section"))


def assert_within_limits(messages: list[list[dict]]) -> None:
    for message in messages:
        assert 1 <= len(message) <= MAX_BLOCKS
        assert sum(len(b.get("text", {}).get("text", "")) + BLOCK_COST
                   for b in message) <= MESSAGE_BUDGET
        for block in message:
            if block["type"] == "section":
                assert 0 < len(block["text"]["text"]) <= SECTION_LIMIT
                assert block["text"]["type"] == "mrkdwn"
            elif block["type"] == "header":
                assert block["text"]["type"] == "plain_text"
                assert 0 < len(block["text"]["text"]) <= HEADER_LIMIT


@pytest.fixture(scope="module")
def demo_digest(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("demo") / "out"
    result = CliRunner().invoke(app, [
        "dry-run", "--input-dir", str(DEMO), "--references", str(DEMO / "references"),
        "--as-of", "2026-11-23", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return (out / "ana.ruiz@lumen.example.com.md").read_text()


def test_escape_handles_ampersand_first():
    assert escape("a & <b> &amp;") == "a &amp; &lt;b&gt; &amp;amp;"


def test_demo_digest_converts_faithfully(demo_digest):
    messages = to_blocks(demo_digest)
    assert len(messages) == 1
    assert_within_limits(messages)
    blocks = messages[0]
    assert blocks[0] == {"type": "header", "text": {
        "type": "plain_text", "text": "Expansion-signal digest — 2026-11-23 — Ana Ruiz",
        "emoji": True}}
    body = "\n".join(texts(messages))
    assert "*Strong signals — act this week*" in body
    assert ("*1. Wavecrest Media Group (Tier 1 Strategic · Stable) — $842k ARR · renewal "
            "2027-04-30*") in body
    assert ('> "We\'re rolling out to 40 more people in January." — Leila Nguyen, '
            "Product Manager, 2026-11-17 (<https://app.gong.io/call?id=595997094218867058|"
            "595997094218867058>)") in body  # the call id links to the call
    assert ("• _Vantage Robotics Holdings_ (Tier 3 Scale · Stable) — enterprise-tier: usage "
            "anomaly only") in body
    assert "feature `sso`" in body
    assert "(https://lumen.example.com/docs/sso-checklist)" in body  # left to auto-link
    assert "tier_gated_feature_attempt +100%" in body  # intraword underscores untouched
    assert not re.search(r"^#|\*\*|^- ", body, re.M)
    assert alnum(shown(messages)) == alnum(demo_digest)


def test_fallback_text_is_title_and_counts(demo_digest):
    assert fallback_text(demo_digest) == (
        "Expansion-signal digest — 2026-11-23 — Ana Ruiz\n"
        "Window: trailing 7 days · Strong signals: 3 · Weak signals: 2")


@pytest.mark.parametrize(("markdown", "mrkdwn"), [
    ("**bold** and __bold__", "*bold* and *bold*"),
    ("*italic* and _italic_", "_italic_ and _italic_"),
    ("***both***", "*_both_*"),
    ("~~gone~~", "~gone~"),
    ("**bold with _italic_ inside**", "*bold with _italic_ inside*"),
    ("2 * 3 * 4 and a*b*c", "2 * 3 * 4 and a*b*c"),
    ("seat_count_spike and snake_case_name", "seat_count_spike and snake_case_name"),
    ("`**not bold** & <x>`", "`**not bold** &amp; &lt;x&gt;`"),
    ("``double `tick` code``", "``double `tick` code``"),
    ("**https://x.example/a_b_c**", "*https://x.example/a_b_c*"),
    ("see [the docs](https://x.example/a?b=1&c=2) now",
     "see <https://x.example/a?b=1&amp;c=2|the docs> now"),
    ("[pipe](https://x.example/a|b)", "<https://x.example/a%7Cb|pipe>"),
    ("[not a web link](javascript:alert)", "[not a web link](javascript:alert)"),
    ("- item\n* item\n+ item\n  - nested", "• item\n• item\n• item\n  • nested"),
    ("1. first\n2. second", "1. first\n2. second"),
    ("> quoted *words*", "> quoted _words_"),
    ("## Heading two\n### Heading three", "*Heading two*\n*Heading three*"),
    ("_Taxonomy last edited 90+ days ago._ Edit `references/1-taxonomy.md`.",
     "_Taxonomy last edited 90+ days ago._ Edit `references/1-taxonomy.md`."),
])
def test_markup(markdown, mrkdwn):
    assert one_text(markdown) == mrkdwn


def test_blank_lines_collapse_and_rules_become_dividers():
    messages = to_blocks("\n\npara one\n\n\n\npara two\n\n---\n\nafter")
    assert [b["type"] for b in messages[0]] == ["section", "divider", "section"]
    assert texts(messages) == ["para one\n\npara two", "after"]


def test_code_fence_is_kept_and_escaped_verbatim():
    text = one_text("```python\n**x** <y> & z\n- not a list\n```\n\n~~~\n# x\n~~~")
    assert text == "```python\n**x** &lt;y&gt; &amp; z\n- not a list\n```\n\n```\n# x\n```"


INJECTIONS = "<!channel> <@U123> <http://x|y> <!subteam^S1> &amp; & <#C0123|general>"


def test_customer_text_cannot_ping_mention_or_link():
    markdown = (
        "# Digest — Ana\n\n"
        f'> "{INJECTIONS} [click](http://evil.example)" — Pat, CFO\n\n'
        f'Ticket evidence: "{INJECTIONS} [click](http://evil.example)" (T-1)\n\n'
        f'- *Acme <!here>* — sku: ticket only ("[click](http://evil.example)"), no call\n')
    messages = to_blocks(markdown)
    for text in [*texts(messages), fallback_text(markdown)]:
        assert "<" not in text
        assert all(">" not in unquoted(line) for line in text.split("\n"))
        assert not re.search(r"&(?!amp;|lt;|gt;)", text)
    body = "\n".join(texts(messages))
    assert "&lt;!channel&gt; &lt;@U123&gt; &lt;http://x|y&gt;" in body
    assert "&amp;amp; &amp; &lt;#C0123|general&gt;" in body
    assert "[click](http://evil.example)" in body  # a customer cannot label a link


def test_links_outside_source_text_still_convert():
    text = one_text('Action: read [the checklist](https://x.example/c) before "the call".')
    assert text == 'Action: read <https://x.example/c|the checklist> before "the call".'


def test_long_title_becomes_a_bold_line():
    title = "T" * (HEADER_LIMIT + 1)
    messages = to_blocks(f"# {title}\n\nbody")
    assert [b["type"] for b in messages[0]] == ["section"]
    assert texts(messages) == [f"*{title}*\n\nbody"]


def test_long_section_splits_at_line_boundaries():
    lines = [f"- line {i:03d} " + "x" * 90 for i in range(100)]
    messages = to_blocks("## Weak\n\n" + "\n".join(lines))
    assert_within_limits(messages)
    sections = texts(messages)
    assert len(sections) >= 4
    joined = "\n".join(sections)
    assert [int(n) for n in re.findall(r"• line (\d{3})", joined)] == list(range(100))
    for text in sections:
        assert all(line.startswith(("• line", "*Weak*")) for line in text.split("\n") if line)


def test_overlong_quote_line_splits_at_spaces_and_stays_a_quote():
    words = [f"w{i:04d}" for i in range(2000)]
    messages = to_blocks('> "' + " ".join(words) + '" — Pat')
    assert_within_limits(messages)
    sections = texts(messages)
    assert len(sections) >= 4
    assert all(s.startswith("> ") for s in sections)
    assert re.findall(r"w\d{4}", "\n".join(sections)) == words


def test_overlong_line_without_spaces_never_cuts_an_entity():
    messages = to_blocks("&" * 2000 + "<" * 2000)
    assert_within_limits(messages)
    for text in texts(messages):
        assert re.fullmatch(r"(&amp;)*(&lt;)*", text)
    assert "".join(texts(messages)) == "&amp;" * 2000 + "&lt;" * 2000


def test_many_blocks_split_across_messages():
    markdown = "\n\n".join(f"### Entry {i}\n\nshort body {i}" for i in range(120))
    messages = to_blocks(markdown)
    assert_within_limits(messages)
    assert [len(m) for m in messages] == [50, 50, 20]
    assert re.findall(r"short body (\d+)", "\n".join(texts(messages))) == [
        str(i) for i in range(120)]


def test_message_text_budget_splits_messages():
    markdown = "\n\n".join(f"### Entry {i}\n\n" + "y " * 1400 for i in range(12))
    messages = to_blocks(markdown)
    assert_within_limits(messages)
    assert len(messages) >= 3


def test_empty_digest_has_no_messages():
    assert to_blocks("") == [] and to_blocks("\n\n  \n") == []


def test_fallback_text_is_escaped_and_capped():
    markdown = "# Digest — <!channel> & co\n\n" + "Window: " + "z " * 5000
    text = fallback_text(markdown)
    assert text.startswith("Digest — &lt;!channel&gt; &amp; co\nWindow: z z")
    assert len(text) <= FALLBACK_LIMIT and text.endswith("…")
    assert fallback_text("no title here\n\nsecond line\nthird") == "no title here\nsecond line"


_LINE = st.text(alphabet=st.sampled_from(list("abcXYZ019 &<>\"'!@|#*_~`-.:/")),
                max_size=400)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(_LINE, st.builds(lambda n: "q" * n, st.integers(0, 7000))),
                max_size=40))
def test_any_text_survives_within_limits(lines):
    markdown = "\n".join(lines)
    messages = to_blocks(markdown)
    assert_within_limits(messages)
    assert alnum(shown(messages)) == alnum(markdown)
    for text in texts(messages):
        assert "<" not in text  # no [label](url) in this alphabet, so esd adds no markup
        assert not re.search(r"&(?!amp;|lt;|gt;)", text)
        assert all(">" not in unquoted(line) for line in text.split("\n"))
