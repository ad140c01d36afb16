"""The digest a CSM reads (issue 17, parts 4 and 7): quotes linked to their call, weak
signals one line per account, the capped accounts named, the action naming the
customer who asked, and a compact team-wide footer under the seed's five lines."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from builders import AS_OF, CSM, CUSTOMER, account, call, event, write_portfolio
from conftest import TEST_REFS
from typer.testing import CliRunner

from esd.cli import app
from esd.delivery.slack import SlackDelivery
from esd.models import Mention
from esd.render.digest import md_text
from esd.render.digest_parts import contact, personal_action
from esd.render.links import safe_call_url

ANA = "ana.ruiz@lumen.example.com"
SSO = "Do you support SSO with Okta?"
GOOD = "https://us-12345.app.gong.io/call?id=7782342274025937895"


def sso_account(id: str, arr: float, call_id: str, **call_kw) -> tuple[dict, dict, dict]:
    return (account(id, arr=arr),
            call(id, call_id, [("Dana Lee", SSO)], **call_kw),
            event(id, "tier_gated_feature_attempt", "tier_gated_feature_attempts", 100.0,
                  feature="sso"))


def dry_run(tmp_path: Path, accounts, calls, usage, *extra: str) -> tuple[dict, str]:
    folder = write_portfolio(tmp_path / "in", accounts, calls, usage)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [
        "dry-run", "--input-dir", str(folder), "--references", str(TEST_REFS),
        "--as-of", AS_OF, "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    run = json.loads((out / "run.json").read_text())
    return run, (out / f"{ANA}.md").read_text()


def slack_texts(markdown: str, signal_ids=()) -> list[str]:
    """Every mrkdwn text of the Slack messages the digest becomes."""
    return [block["text"]["text"] for message in SlackDelivery.split(markdown, signal_ids)
            for block in message.blocks if block["type"] == "section"]


# --- the quote links to its call ---------------------------------------------------------


def test_the_quotes_call_id_links_to_the_call_in_the_md_and_in_slack(tmp_path):
    a, c, e = sso_account("a1", 480_000.0, "c1", url=GOOD)
    run, text = dry_run(tmp_path, [a], [c], [e])
    assert f'> "{SSO}" — Dana Lee, VP IT, 2026-11-18 ([c1]({GOOD}))\n' in text
    [strong] = run["digests"][0]["strong"]
    assert strong["call_evidence"][0]["url"] == GOOD  # a field added to run.json
    quote_lines = [line for t in slack_texts(text, [strong["signal_id"]])
                   for line in t.split("\n") if "Dana Lee" in line and line.startswith(">")]
    assert quote_lines == [f'> "{SSO}" — Dana Lee, VP IT, 2026-11-18 (<{GOOD}|c1>)']


HOSTILE = [
    "javascript:alert(1)",
    "http://app.gong.io/call?id=1",  # not https
    "https://evil.example/call?id=1",  # another host
    "https://app.gong.io.evil.example/call?id=1",  # gong.io only as a prefix
    "https://evilgong.io/call?id=1",
    "https://user:pw@app.gong.io/call?id=1",  # user-info
    "https://app.gong.io/call?id=1|<!channel>",  # ends a Slack link, pings
    "https://app.gong.io/call?id=1><!here>",
    "https://app.gong.io/call?id=1)[x](https://evil.example",  # ends the Markdown link
    'https://app.gong.io/call?id=1" onclick="x',
    "https://app.gong.io/call?id=1 https://evil.example",
    "https://app.gong.io/call?id=1\n> injected",
]


@pytest.mark.parametrize("url", HOSTILE)
def test_a_hostile_call_url_is_never_linked(tmp_path, url):
    a, c, e = sso_account("a1", 480_000.0, "c1", url=url)
    run, text = dry_run(tmp_path, [a], [c], [e])
    assert f'> "{SSO}" — Dana Lee, VP IT, 2026-11-18 (c1)\n' in text  # the id, as text
    [strong] = run["digests"][0]["strong"]
    assert "url" not in strong["call_evidence"][0]
    for needle in ("javascript", "evil", "<!", "injected", "onclick", "user:pw"):
        assert needle not in text
    for t in slack_texts(text, [strong["signal_id"]]):
        assert "gong.io" not in t and "<!" not in t and "evil" not in t
        assert not re.search(r"<(?!https://lumen\.example\.com)[^>]*>", t)  # no link but ours


@pytest.mark.parametrize("url, safe", [
    (GOOD, GOOD),
    ("https://app.gong.io/call?id=1", "https://app.gong.io/call?id=1"),
    ("  https://APP.GONG.IO/call?id=1  ", "https://APP.GONG.IO/call?id=1"),
    ("https://gong.io:443/call?id=1&highlights=%5B%5D", "https://gong.io:443/call?id=1&highlights=%5B%5D"),
    ("https://app.gong.io:8443/call?id=1", None),
    ("https://app.gong.io/" + "x" * 2_000, None),
    (None, None), (17, None),
    *[(u, None) for u in HOSTILE],
])
def test_safe_call_url(url, safe):
    assert safe_call_url(url) == safe


def test_two_calls_sharing_an_id_with_different_urls_get_no_link(tmp_path):
    a, c, e = sso_account("a1", 480_000.0, "c1", url=GOOD)
    b, d, f = sso_account("a2", 300_000.0, "c1", url="https://app.gong.io/call?id=9")
    _, text = dry_run(tmp_path, [a, b], [c, d], [e, f])
    assert text.count("(c1)\n") == 2 and "gong.io" not in text


# --- the action names the customer who asked --------------------------------------------


def test_the_action_names_the_customer_speaker_instead_of_the_role(tmp_path):
    a, c, e = sso_account("a1", 480_000.0, "c1")
    run, text = dry_run(tmp_path, [a], [c], [e])
    [strong] = run["digests"][0]["strong"]
    assert "to the security contact and" in strong["action"]  # run.json: as written
    assert ("Action: Send the SSO setup checklist (https://lumen.example.com/docs/"
            "sso-checklist) to Dana Lee (VP IT) and propose a 30-min walkthrough this "
            "week.\n") in text
    assert "the security contact" not in text


def test_the_named_contact_is_escaped_like_any_source_text(tmp_path):
    hostile = {**CUSTOMER, "title": "VP <!here> [x](https://evil.example) IT"}
    a, c, e = sso_account("a1", 480_000.0, "c1", attendees=[CSM, hostile])
    run, text = dry_run(tmp_path, [a], [c], [e])
    assert (r"to Dana Lee (VP \<!here\> \[x\](https://evil.example) IT) and propose"
            in text)
    [strong] = run["digests"][0]["strong"]
    [action] = [line for t in slack_texts(text, [strong["signal_id"]])
                for line in t.split("\n") if line.startswith("Action:")]
    assert "Dana Lee (VP &lt;!here&gt; [x](https://evil.example) IT)" in action
    assert "<!here>" not in action and "<https://evil" not in action


def test_an_action_naming_someone_else_is_left_as_written(tmp_path):
    # "the economic buyer" is not known to be the person who asked: no substitution.
    a = account("a1", arr=480_000.0, segment="enterprise")
    c = call("a1", "c1", [("Dana Lee", "We want a quote for 400 seats.")])
    e = event("a1", "seat_count_spike", "seat_count", 40.0)
    run, text = dry_run(tmp_path, [a], [c], [e])
    [strong] = run["digests"][0]["strong"]
    assert "the economic buyer" in strong["action"]
    assert f"Action: {strong['action']}\n" in text
    assert "Dana Lee (VP IT)" not in text.split("Action:")[1]


def mention(source: str, speaker: str | None, title: str | None = None) -> Mention:
    return Mention(account_id="a1", sku="enterprise-tier", source=source, source_id="x",
                   quote="q", trigger="t", occurred_at=datetime(2026, 11, 18, tzinfo=UTC),
                   speaker=speaker, speaker_title=title)


def test_no_customer_speaker_means_no_substitution():
    action = "Send the checklist to the security contact this week."
    assert contact([mention("ticket", None)], md_text) is None
    assert contact([mention("call", None), mention("call", "  ")], md_text) is None
    assert personal_action(action, None) == action
    who = contact([mention("ticket", None), mention("call", "Dana Lee", "VP IT")], md_text)
    assert personal_action(action, who) == "Send the checklist to Dana Lee (VP IT) this week."
    assert personal_action("Book a call with the asking persona.", "Dana Lee") == \
        "Book a call with Dana Lee."
    assert personal_action("Ping the technical evaluator.", "Dana Lee") == \
        "Ping the technical evaluator."
    assert personal_action(None, "Dana Lee") is None


# --- weak signals, overflow, footer -----------------------------------------------------


def test_one_accounts_weak_signals_share_one_line(tmp_path):
    a, c, e = sso_account("a1", 480_000.0, "c1")
    weak = account("a2", name="Globex", arr=200_000.0)
    weak_call = call("a2", "c2", [("Dana Lee", "We are rolling out to 40 more people.")])
    weak_event = event("a2", "tier_gated_feature_attempt", "tier_gated_feature_attempts",
                       100.0, feature="sso")
    run, text = dry_run(tmp_path, [a, weak], [c, weak_call], [e, weak_event])
    assert sorted(w["sku"] for w in run["digests"][0]["weak"]) == [
        "additional-team-seats", "enterprise-tier"]
    assert "Weak signals: 2" in text and "## Weak signals — worth a glance (2)" in text
    lines = [line for line in text.splitlines() if line.startswith("- *Globex*")]
    assert lines == ["- *Globex* (Tier 2 Growth) — additional-team-seats: call mention only, "
                     "no usage corroboration; enterprise-tier: usage anomaly only "
                     "(tier_gated_feature_attempt +100%), no call mention"]


def test_the_overflow_line_names_the_capped_accounts_in_rank_order(tmp_path):
    rows = [sso_account(f"a{i}", arr, f"c{i}")
            for i, arr in ((1, 480_000.0), (2, 90_000.0), (3, 300_000.0))]
    accounts, calls, usage = (list(x) for x in zip(*rows, strict=True))
    run, text = dry_run(tmp_path, accounts, calls, usage, "--cap-per-csm", "1")
    digest = run["digests"][0]
    assert [s["account_id"] for s in digest["strong"]] == ["a1"] and digest["overflow"] == 2
    assert digest["capped"] == [
        {"account_id": "a3", "sku": "enterprise-tier", "account_name": "Account a3"},
        {"account_id": "a2", "sku": "enterprise-tier", "account_name": "Account a2"}]
    assert ("- (+2 more capped from strong list: Account a3 (enterprise-tier), Account a2 "
            "(enterprise-tier) — see footer)\n") in text
    assert "over your cap of 1: 2 strong, named above" in text


def test_the_footer_keeps_the_seeds_five_lines_then_one_compact_paragraph(tmp_path):
    a, c, e = sso_account("a1", 480_000.0, "c1")
    _, text = dry_run(tmp_path, [a], [c], [e])
    footer = text[text.index("## Diagnostics"):].splitlines()
    assert footer[1:8] == [
        "", "- Accounts in scope: 1", "- Accounts with zero records (dropped): 0",
        "- Negative-example matches (suppressed): 0 (0 negative example, 0 conditional)",
        "- Champion-departure suppressions: 0",
        f"- Taxonomy file hash: {footer[6].rsplit(' ', 1)[1]}", ""]
    [details] = footer[8:]
    assert details.startswith("Run details (team-wide): call coverage 100% · usage anomalies 1 ")
    assert "stakeholder changes: no source, so the champion-departure guard could not run" \
        in details
    assert details.endswith(" · extractor: rules (literal taxonomy phrases, no model cost)")


def test_a_quote_line_links_only_after_its_closing_quote_mark():
    line = ('> "See [docs](https://evil.example) now." — Dana Lee, VP IT, 2026-11-18 '
            f'([c1]({GOOD}))')
    [text] = slack_texts(line)
    assert text == ('> "See [docs](https://evil.example) now." — Dana Lee, VP IT, '
                    f'2026-11-18 (<{GOOD}|c1>)')
    [bare] = slack_texts(f"> no quote marks here ([c1]({GOOD}))")
    assert "<" not in bare  # a quote line without quote marks links nothing
