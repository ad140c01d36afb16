"""Source text stays text (contract §11): in the `.md` digest and in Slack mrkdwn, no
name, id, metric, feature or quote can forge a header, quote or link, ping or mention."""

from __future__ import annotations

import json
import re

from builders import AS_OF, CUSTOMER, account, call, event, ticket, write_portfolio
from conftest import ROOT
from typer.testing import CliRunner

from esd.cli import app
from esd.delivery.mrkdwn import fallback_text, to_blocks
from esd.render.digest import md_text

REFS = str(ROOT / "references")
LINK = "[click](https://evil.example)"
HOSTILE = f"{LINK}\n# Forged header\n> forged quote <!channel> <@U1> <https://x|y> & `x"


def dry_run(tmp_path):
    evil = {**CUSTOMER, "name": f"Dana {LINK}\n# Forged", "title": f"VP\n> {LINK}"}
    folder = write_portfolio(
        tmp_path / "in",
        [account("a1", name=f"Acme {HOSTILE}", owner_name=f"Eve {HOSTILE}")],
        calls=[call("a1", f"c1 {LINK}", [(evil["name"], "Do you support SSO with Okta?")],
                    attendees=[evil])],
        usage=[event("a1", "tier_gated_feature_attempt", f"attempts {HOSTILE}", 100.0,
                     feature="sso")],
        tickets=[ticket("a1", "Need SSO with Okta", "Do you support SSO with Okta?",
                        tags=[f"tag {LINK}"], ticket_id=f"T-1\n# {LINK}")],
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["dry-run", "--input-dir", str(folder),
                                      "--references", REFS, "--as-of", AS_OF,
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out, json.loads((out / "run.json").read_text())


def live_links(markdown: str) -> list[str]:
    """Markdown links and autolinks whose brackets are not backslash-escaped."""
    return re.findall(r"(?<!\\)\[[^\]]*(?<!\\)\]\(|(?<!\\)<https?:", markdown)


def test_digest_md_keeps_every_source_field_as_text(tmp_path):
    out, run = dry_run(tmp_path)
    [strong] = run["digests"][0]["strong"]
    assert strong["account_id"] == "a1"  # the hostile data reached the strong list
    markdown = (out / "ana.ruiz@lumen.example.com.md").read_text()
    assert live_links(markdown) == []
    for line in markdown.splitlines():
        assert not re.match(r"\s*(#+|>)\s*(Forged|forged|\\\[click)", line), line
    assert "Acme \\[click\\](https://evil.example) # Forged header \\> forged quote " \
           "\\<!channel\\> \\<@U1\\>" in markdown
    assert "Eve \\[click\\]" in markdown  # the CSM name in the title, escaped
    # run.json keeps the source values untouched: it is data, not Markdown
    assert strong["account_name"] == f"Acme {HOSTILE}"


def test_slack_blocks_never_link_ping_or_forge(tmp_path):
    out, _ = dry_run(tmp_path)
    markdown = (out / "ana.ruiz@lumen.example.com.md").read_text()
    messages = to_blocks(markdown)
    sections = [b["text"]["text"] for m in messages for b in m if b["type"] == "section"]
    headers = [b["text"]["text"] for m in messages for b in m if b["type"] == "header"]
    for text in [*sections, fallback_text(markdown)]:
        assert "<" not in text, text  # no <url|label>, <!channel>, <@U1> reaches Slack
        for line in text.split("\n"):
            assert not re.match(r"(&gt;|>)\s*(forged|\[click)", line), line
    body = "\n".join(sections)
    assert f"Acme {LINK} # Forged header &gt; forged quote &lt;!channel&gt;" in body
    assert "\\[" not in body  # the Markdown escapes are undone, not shown
    assert headers and all("\\" not in h for h in headers)
    assert any(f"Eve {LINK}" in h for h in headers)


def test_md_text_is_one_literal_line():
    assert md_text("a\nb\r\nc\u2028d\x00e\tf") == "a b c d e f"
    assert md_text("[x](https://e) <b> `c` \\") == "\\[x\\](https://e) \\<b\\> \\`c\\` \\\\"
    assert md_text("seat_count *bold*") == "seat_count *bold*"  # left readable
    assert md_text(None) is None
