"""Slack delivery against a fake Slack Web API on 127.0.0.1 (contract §1, §8, §11)."""

from __future__ import annotations

import copy
import html
import json
import re
import time
from pathlib import Path

import jsonschema
import pytest
from conftest import fake_fixture
from fakes.slack import TOKEN, FakeSlack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from esd.delivery.mrkdwn import to_blocks
from esd.delivery.slack import EVENT_TYPE, POST_ATTEMPTS, SlackDelivery, SlackMessage
from esd.errors import DeliveryError, InputError

SPEC = Path(__file__).parent / "data" / "api-specs" / "slack" / "slack_web_openapi_v2.json"
ANA = "ana.ruiz@lumen.example.com"
TOM = "tom.becker@lumen.example.com"
WEEK = "2026-11-23"
DIGEST = """\
# Expansion-signal digest — 2026-11-23 — Ana Ruiz

Window: trailing 7 days · Strong signals: 1 · Weak signals: 1

## Strong signals — act this week

### 1. Wavecrest Media Group — $842k ARR · renewal 2027-04-30

SKU: additional-team-seats

Call evidence:

> "We're rolling out to 40 more people in January." — Leila Nguyen, PM, 2026-11-17 (5959)

Action: Send the checklist (https://lumen.example.com/docs/sso-checklist) this week.

## Weak signals — worth a glance (1)

- *Vantage Robotics Holdings* — enterprise-tier: usage anomaly only, no call mention
"""


def marker(owner: str = ANA, week: str = WEEK) -> dict:
    return {"week": week, "owner": owner, "digest_sha": "0123456789abcdef"}


fake = fake_fixture(lambda: FakeSlack([ANA, TOM]))


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def slack(fake, waits) -> SlackDelivery:
    return SlackDelivery(TOKEN, fake.url + "/api/", sleep=waits.append)


def methods(fake: FakeSlack) -> list[tuple[str, int]]:
    return [(req.path.removeprefix("/api/"), resp.status) for req, resp in fake.exchanges]


def mrkdwn_texts(message: dict) -> list[str]:
    """Every text of a stored message that Slack parses as mrkdwn."""
    texts = [message["text"]]
    for block in message.get("blocks", []):
        if block["type"] == "section" and block["text"]["type"] == "mrkdwn":
            texts.append(block["text"]["text"])
        for element in block.get("elements", []):  # context blocks
            if element.get("type") == "mrkdwn":
                texts.append(element["text"])
    return texts


def test_delivers_a_digest_as_a_dm(fake, slack):
    channel = slack.dm_channel(ANA)
    ts = slack.post_digest(channel, DIGEST, marker())

    assert methods(fake) == [("users.lookupByEmail", 200), ("conversations.open", 200),
                             ("chat.postMessage", 200)]
    assert channel == fake.channel_of(ANA)
    [message] = fake.messages(channel)
    assert ts == [message["ts"]]
    assert message["text"].startswith("Expansion-signal digest — 2026-11-23 — Ana Ruiz\n"
                                      "Window: trailing 7 days")
    assert message["blocks"] == to_blocks(DIGEST)[0]
    assert message["blocks"][0]["type"] == "header"
    assert message["metadata"] == {"event_type": EVENT_TYPE, "event_payload": {
        **marker(), "part": 1, "parts": 1}}
    posted = fake.exchanges[-1][0].body
    assert posted["unfurl_links"] is False and posted["unfurl_media"] is False


def test_dm_channel_is_looked_up_once_per_csm(fake, slack):
    assert slack.dm_channel(ANA) == slack.dm_channel(ANA) != slack.dm_channel(TOM)
    assert [m for m, _ in methods(fake)].count("users.lookupByEmail") == 2


QUOTE = 'He said <!channel> <@U123> <http://x|y> & "R&D <b>" [click](http://evil.example)'


def test_customer_text_cannot_ping_mention_or_link(fake, slack):
    digest = DIGEST.replace("We're rolling out to 40 more people in January.", QUOTE)
    digest = digest.replace("usage anomaly only", f'ticket only ("{QUOTE}")')
    channel = slack.dm_channel(ANA)
    slack.post_digest(channel, digest, marker())

    [message] = fake.messages(channel)
    quote_lines = [line for text in mrkdwn_texts(message) for line in text.split("\n")
                   if "He said" in line]
    assert len(quote_lines) == 2
    for line in quote_lines:
        assert "<" not in line and ">" not in line.removeprefix("> ")
        assert ("He said &lt;!channel&gt; &lt;@U123&gt; &lt;http://x|y&gt; &amp; "
                '"R&amp;D &lt;b&gt;" [click](http://evil.example)') in line
        assert html.unescape(line).count(QUOTE) == 1  # shown exactly as the customer wrote
    for text in mrkdwn_texts(message):
        assert not re.search(r"<[!@#]|&(?!amp;|lt;|gt;)", text)


def long_digest() -> str:
    weak = "\n".join(f"- *Account {i:03d}* — enterprise-tier: " + f"w{i:03d} " * 18
                     for i in range(200))
    quotes = "\n\n".join(f'> "{" ".join(f"q{i}x{j:04d}" for j in range(700))}" — Speaker {i}'
                         for i in range(3))
    return DIGEST.replace("Call evidence:\n", "Call evidence:\n\n" + quotes + "\n") + weak


def test_a_long_digest_is_split_across_messages_never_cut(fake, slack):
    digest = long_digest()
    channel = slack.dm_channel(ANA)
    ts = slack.post_digest(channel, digest, marker())

    stored = fake.messages(channel)
    assert len(stored) == len(ts) >= 3
    assert [m["ts"] for m in stored] == ts
    for part, message in enumerate(stored, start=1):
        assert len(message["blocks"]) <= 50
        assert all(len(b["text"]["text"]) <= 3000 for b in message["blocks"] if "text" in b)
        assert message["metadata"]["event_payload"] == {**marker(), "part": part,
                                                        "parts": len(stored)}
    assert stored[1]["text"].endswith(f"(part 2 of {len(stored)})")
    everything = "\n".join(b["text"]["text"] for m in stored for b in m["blocks"] if "text" in b)
    assert re.findall(r"q\dx\d{4}", everything) == re.findall(r"q\dx\d{4}", digest)
    assert re.findall(r"w\d{3}", everything) == re.findall(r"w\d{3}", digest)
    assert re.findall(r"Account \d{3}", everything) == [f"Account {i:03d}" for i in range(200)]


def test_rate_limited_calls_are_retried_after_retry_after(fake, slack):
    fake.rate_limit("users.lookupByEmail", retry_after="0")
    fake.rate_limit("chat.postMessage", retry_after="0")
    channel = slack.dm_channel(ANA)
    slack.post_digest(channel, DIGEST, marker())

    assert methods(fake) == [
        ("users.lookupByEmail", 429), ("users.lookupByEmail", 200),
        ("conversations.open", 200), ("chat.postMessage", 429), ("chat.postMessage", 200)]
    assert len(fake.messages(channel)) == 1


def test_three_rate_limit_retries_by_default_and_none_by_slack_sdk(fake):
    slack = SlackDelivery(TOKEN, fake.url)
    # slack_sdk's own handlers would re-send a post after a dropped connection and sleep
    # any Retry-After: esd retries itself (see test_delivery_faults.py).
    assert slack.client.retry_handlers == []
    assert slack.rate_limit_retries == 3 and slack.max_wait_s == 120


def test_rate_limit_outlasting_the_retries_is_a_delivery_error(fake):
    slack = SlackDelivery(TOKEN, fake.url + "/api/", rate_limit_retries=0)
    fake.rate_limit("users.lookupByEmail", retry_after="0")
    with pytest.raises(DeliveryError, match=rf"{ANA}: ratelimited \(HTTP 429; "):
        slack.dm_channel(ANA)


def test_unknown_email_names_the_csm(slack):
    with pytest.raises(DeliveryError) as caught:
        slack.dm_channel("nobody@lumen.example.com")
    assert str(caught.value) == ("Slack users.lookupByEmail failed for "
                                 "nobody@lumen.example.com: users_not_found "
                                 "(no Slack user has this email)")
    assert caught.value.exit_code == 4


def test_server_error_names_the_csm_and_status(fake, slack):
    fake.server_error("users.lookupByEmail")
    with pytest.raises(DeliveryError, match=rf"users.lookupByEmail failed for {ANA}: HTTP 500$"):
        slack.dm_channel(ANA)
    channel = slack.dm_channel(ANA)
    fake.server_error("chat.postMessage", times=POST_ATTEMPTS)
    with pytest.raises(DeliveryError, match=rf"chat.postMessage failed for {ANA}: HTTP 500; "
                                            r"not in the DM's history after 3 tries$"):
        slack.post_digest(channel, DIGEST, marker())
    assert fake.messages(channel) == []
    # Each 500 was looked up in the DM's history before the next try: never blind.
    posts = [m for m, _ in methods(fake) if m in ("chat.postMessage", "conversations.history")]
    assert posts[-6:] == ["chat.postMessage", "conversations.history"] * 3


def test_per_user_errors(fake, slack):
    fake.fail_user(TOM, "user_disabled", "conversations.open")
    with pytest.raises(DeliveryError, match=f"conversations.open failed for {TOM}: "
                                            "user_disabled"):
        slack.dm_channel(TOM)
    with pytest.raises(DeliveryError, match=f"chat.postMessage failed for {ANA}: "
                                            "channel_not_found"):
        slack.post_digest("D0NOSUCHCHAN", DIGEST, marker())


def test_a_failure_after_the_first_part_says_how_far_it_got(fake, slack):
    channel = slack.dm_channel(ANA)
    fake.server_error("chat.postMessage", after=1, times=POST_ATTEMPTS)
    with pytest.raises(DeliveryError, match=r"HTTP 500; .* \(after posting part 1 of \d+\)"):
        slack.post_digest(channel, long_digest(), marker())
    assert len(fake.messages(channel)) == 1


def test_find_posted_finds_this_weeks_digest_only(fake, slack):
    channel = slack.dm_channel(ANA)
    before = time.time() - 60
    [first] = slack.post_digest(channel, DIGEST, marker())

    assert slack.find_posted(channel, marker(), before) == first
    assert slack.find_posted(channel, marker(week="2026-11-30"), before) is None
    assert slack.find_posted(channel, marker(owner=TOM), before) is None
    assert slack.find_posted(channel, marker(), float(first) + 1) is None
    history = [req for req, _ in fake.exchanges if req.path.endswith("conversations.history")]
    assert all(req.body.get("include_all_metadata") == "1" if isinstance(req.body, dict)
               else "include_all_metadata=1" in req.body for req in history)


def test_find_posted_in_a_channel_slack_no_longer_knows_is_none(fake, slack):
    assert slack.find_posted("D0GONE0000", marker(), 0) is None
    assert methods(fake) == [("conversations.history", 200)]
    fake.server_error("conversations.history")
    with pytest.raises(DeliveryError, match=rf"conversations.history failed for {ANA}: HTTP 500"):
        slack.find_posted(slack.dm_channel(ANA), marker(), 0)


def test_find_posted_pages_through_history(fake, slack):
    channel = slack.dm_channel(ANA)
    before = time.time() - 60
    [first] = slack.post_digest(channel, DIGEST, marker(week="2026-11-16"))
    for week in ("2026-11-23", "2026-11-30", "2026-12-07"):
        slack.post_digest(channel, DIGEST, marker(week=week))
    fake.history_page_size = 1

    assert slack.find_posted(channel, marker(week="2026-11-16"), before) == first
    assert [m for m, _ in methods(fake)].count("conversations.history") == 4


def test_find_posted_stops_on_a_cursor_that_does_not_advance(fake, slack):
    channel = slack.dm_channel(ANA)
    for week in ("2026-11-23", "2026-11-30", "2026-12-07"):
        slack.post_digest(channel, DIGEST, marker(week=week))
    fake.history_page_size, fake.history_cursor_stuck = 1, True

    with pytest.raises(DeliveryError, match="conversations.history failed for .*does not "
                       "advance") as caught:
        slack.find_posted(channel, marker(week="2026-11-16"), 0)
    assert caught.value.source == "slack"
    assert [m for m, _ in methods(fake)].count("conversations.history") == 2


def test_find_posted_treats_a_cut_digest_as_not_posted(fake, slack):
    channel = slack.dm_channel(ANA)
    before = time.time() - 60
    ts = slack.post_digest(channel, long_digest(), marker())
    fake.delete(channel, ts[-1])  # as if the run died before posting the last part
    assert slack.find_posted(channel, marker(), before) is None

    again = slack.post_digest(channel, long_digest(), marker())
    assert slack.find_posted(channel, marker(), before) == again[0] != ts[0]


def test_bad_token_is_named_but_never_shown(fake):
    slack = SlackDelivery("xoxb-wrong-token-value", fake.url + "/api/")
    with pytest.raises(DeliveryError) as caught:
        slack.dm_channel(ANA)
    assert "invalid_auth" in str(caught.value) and "SLACK_BOT_TOKEN" in str(caught.value)
    assert "xoxb-wrong-token-value" not in _everything_said(caught.value)


def test_unreachable_slack_is_a_delivery_error():
    slack = SlackDelivery(TOKEN, "http://127.0.0.1:9/api/", timeout=2)
    with pytest.raises(DeliveryError, match=rf"for {ANA}: could not reach 127.0.0.1:9"):
        slack.dm_channel(ANA)


def _everything_said(exc: BaseException) -> str:
    """An exception's message and repr, and those of everything chained to it."""
    said = []
    while exc is not None:
        said += [str(exc), repr(exc)]
        exc = exc.__cause__ or exc.__context__
    return "\n".join(said)


def test_no_error_message_carries_the_token(fake, slack):
    failures = []
    scenarios = [
        lambda: slack.dm_channel("nobody@lumen.example.com"),
        lambda: (fake.server_error("users.lookupByEmail"), slack.dm_channel(ANA)),
        lambda: slack.post_digest("D0NOSUCHCHAN", DIGEST, marker()),
        lambda: (fake.server_error("conversations.history"),
                 slack.find_posted(slack.dm_channel(ANA), marker(), 0)),
        lambda: (fake.fail_user(TOM, "cannot_dm_bot", "conversations.open"),
                 slack.dm_channel(TOM)),
    ]
    for scenario in scenarios:
        with pytest.raises(DeliveryError) as caught:
            scenario()
        failures.append(caught.value)
    for exc in failures:
        assert TOKEN not in _everything_said(exc)
        assert "xoxb" not in str(exc)


def test_from_env_needs_the_token_and_honours_the_url(fake):
    for env in ({}, {"SLACK_BOT_TOKEN": "  "}):
        with pytest.raises(InputError, match="SLACK_BOT_TOKEN is not set") as caught:
            SlackDelivery.from_env(env)
        # Every scope esd uses, reading reactions included (contract §8, §12).
        assert ("(scopes users:read, users:read.email, im:write, chat:write, im:history, "
                "reactions:read)") in str(caught.value)
    assert SlackDelivery.from_env({"SLACK_BOT_TOKEN": TOKEN}).client.base_url == \
        "https://slack.com/api/"
    slack = SlackDelivery.from_env({"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": fake.url + "/api"})
    assert slack.client.base_url == fake.url + "/api/"
    assert slack.dm_channel(ANA) == fake.channel_of(ANA)


# -- reading reactions (contract §12) --------------------------------------------------

def post_signals(slack: SlackDelivery, channel: str, ids: list[str]) -> dict[str, str]:
    """A digest's header part, then one message per signal id; id -> ts ("" for the
    header)."""
    total = len(ids) + 1
    posted = {}
    for part, sid in enumerate(["", *ids], start=1):
        extra = {"signal": sid} if sid else {}
        message = SlackMessage(to_blocks(f"# Signal {sid or 'header'}")[0], f"s {sid}")
        posted[sid] = slack.post_part(channel, message,
                                      {**marker(), "part": part, "parts": total, **extra}, 0)
    return posted


def react(fake: FakeSlack, email: str, ts: str, *names: str) -> None:
    """The CSM reacts with their own token, as in the Slack app."""
    person = WebClient(token=fake.user_token(email), base_url=fake.url + "/api/")
    for name in names:
        person.reactions_add(channel=fake.channel_of(email), timestamp=ts, name=name)


def test_read_reactions_maps_verdicts_on_signal_messages_in_one_request(fake, slack):
    channel = slack.dm_channel(ANA)
    ts = post_signals(slack, channel, ["s1conv", "s2nois", "s3both", "s4tone", "s5eyes",
                                       "s6none", "s7heav"])
    other = slack.client.chat_postMessage(channel=channel, text="not esd's")["ts"]
    react(fake, ANA, ts["s1conv"], "white_check_mark", "tada")
    react(fake, ANA, ts["s2nois"], "x")
    react(fake, ANA, ts["s3both"], "white_check_mark", "x")  # says neither: skipped
    react(fake, ANA, ts["s4tone"], "white_check_mark::skin-tone-4")
    react(fake, ANA, ts["s5eyes"], "eyes")
    react(fake, ANA, ts["s7heav"], "heavy_check_mark")
    react(fake, ANA, ts[""], "x")  # the header carries no signal
    react(fake, ANA, other, "white_check_mark")  # not a message of esd's
    before = sum(slack.requests.values())

    seen = slack.read_reactions(channel, float(ts[""]) - 1, ANA)

    assert seen == {"s1conv": "converted", "s2nois": "noise", "s4tone": "converted",
                    "s7heav": "converted"}
    assert sum(slack.requests.values()) - before == 1
    assert methods(fake)[-1] == ("conversations.history", 200)
    # Reactions are absent from a message with none, as in Slack.
    assert "reactions" not in next(m for m in fake.messages(channel) if m["ts"] == ts["s6none"])


def test_read_reactions_pages_and_starts_at_oldest(fake, slack):
    channel = slack.dm_channel(ANA)
    ts = post_signals(slack, channel, [f"sig{i}" for i in range(5)])
    for i in range(5):
        react(fake, ANA, ts[f"sig{i}"], "x" if i % 2 else "white_check_mark")
    fake.history_page_size = 2
    before = slack.requests["conversations.history"]

    seen = slack.read_reactions(channel, float(ts[""]) - 1, ANA)
    assert seen == {f"sig{i}": "noise" if i % 2 else "converted" for i in range(5)}
    assert slack.requests["conversations.history"] - before == 3  # 6 messages, 2 a page
    assert slack.read_reactions(channel, float(ts["sig2"]), ANA) == {
        "sig3": "noise", "sig4": "converted"}  # `oldest` is exclusive


def test_read_reactions_failures_name_the_csm_and_slacks_error(fake, slack, waits):
    channel = slack.dm_channel(ANA)
    fake.revoke("im:history")
    with pytest.raises(DeliveryError) as caught:
        slack.read_reactions(channel, 0, ANA)
    assert str(caught.value).startswith(
        f"Slack conversations.history failed for {ANA}: missing_scope (the app needs the "
        "im:history scope; ")
    fake.scopes.add("im:history")
    with pytest.raises(DeliveryError, match=f"failed for {ANA}: channel_not_found"):
        slack.read_reactions("D0GONE0000", 0, ANA)  # not tolerated here, unlike find_parts
    fake.rate_limit("conversations.history", retry_after="3")
    assert slack.read_reactions(channel, 0, ANA) == {}
    assert waits == [3.0]
    # An answer without its messages is never read as "no reactions" (contract §8).
    fake.fail_next("/api/conversations.history", 200, body={"ok": True, "has_more": False})
    with pytest.raises(DeliveryError, match=f"failed for {ANA}: answered in a shape esd "
                                            "cannot read"):
        slack.read_reactions(channel, 0, ANA)


# -- the fake against Slack's own OpenAPI document ----------------------------------------
#
# slack_web_openapi_v2.json is Swagger 2.0 (Slack stopped updating it in 2020), which
# openapi-core cannot validate against: it loads only with its spec check off, then finds
# no validator for the version. Its schemas are JSON Schema draft 4, so jsonschema (an
# openapi-core dependency) checks the fake's answers directly. Three adaptations, each
# for something the 2020 document gets wrong or predates:
# - it writes "one of these" as `items: [A, B]` on non-arrays (users, conversations,
#   nullable fields), which draft 4 ignores; read as `anyOf: [A, B]`, so they are checked;
# - message `metadata` (2022), `response_metadata.next_cursor` in conversations.history
#   and the newer error codes (`invalid_blocks`, `msg_blocks_too_long`, `ratelimited`)
#   are absent, under `additionalProperties: false` and error enums: those fields are
#   set aside and those codes checked for shape only;
# - requests: chat.postMessage is described as form data, while slack_sdk sends JSON
#   (Slack accepts both for write methods); parameter names are checked either way.

NEWER_PARAMS = {"chat.postMessage": {"metadata"}, "conversations.history": {"include_all_metadata"}}
NEWER_ERRORS = {"invalid_blocks", "msg_blocks_too_long", "ratelimited", "invalid_arguments"}


@pytest.fixture(scope="module")
def spec() -> dict:
    return json.loads(SPEC.read_text())


def _as_draft4(node):
    if isinstance(node, dict):
        node = {k: _as_draft4(v) for k, v in node.items()}
        if isinstance(node.get("items"), list) and node.get("type") != "array":
            node["anyOf"] = node.pop("items")
        return node
    if isinstance(node, list):
        return [_as_draft4(v) for v in node]
    return node


def _check_response(spec: dict, method: str, body: dict) -> None:
    operation = next(iter(spec["paths"][f"/{method}"].values()))
    schema = operation["responses"]["200" if body.get("ok") else "default"]["schema"]
    body = copy.deepcopy(body)
    if not body.get("ok") and body.get("error") in NEWER_ERRORS:
        schema = {**schema, "properties": {**schema["properties"], "error": {"type": "string"}},
                  "additionalProperties": True}
    body.pop("response_metadata", None)
    for message in [body.get("message"), *body.get("messages", [])]:
        if isinstance(message, dict):
            message.pop("metadata", None)
    root = _as_draft4({**schema, "definitions": spec["definitions"]})
    jsonschema.Draft4Validator(root).validate(body)


def _check_request(spec: dict, method: str, request) -> None:
    operation = next(iter(spec["paths"][f"/{method}"].values()))
    declared = {p["name"] for p in operation.get("parameters", [])}
    required = {p["name"] for p in operation.get("parameters", [])
                if p.get("required") and p["name"] != "token"}  # the token is a header
    body = request.body
    sent = set(body) if isinstance(body, dict) else {
        pair.split("=")[0] for pair in (body or "").split("&") if pair}
    sent |= set(request.query)
    assert sent <= declared | NEWER_PARAMS.get(method, set()), (method, sent - declared)
    assert required <= sent, (method, required - sent)


def test_fake_and_client_speak_slacks_documented_wire_format(fake, slack, spec):
    channel = slack.dm_channel(ANA)
    slack.dm_channel(TOM)
    slack.post_digest(channel, long_digest(), marker())
    slack.post_digest(channel, DIGEST, marker(week="2026-11-30"))
    fake.history_page_size = 2
    slack.find_posted(channel, marker(), 0)
    for call in (lambda: slack.dm_channel("nobody@lumen.example.com"),
                 lambda: slack.post_digest("D0NOSUCHCHAN", DIGEST, marker()),
                 lambda: SlackDelivery("xoxb-wrong", fake.url + "/api/").dm_channel(ANA)):
        with pytest.raises(DeliveryError):
            call()
    assert slack.find_posted("D0NOSUCHCHAN", marker(), 0) is None  # channel_not_found
    fake.fail_user(TOM, "user_disabled", "conversations.open")
    with pytest.raises(DeliveryError):
        SlackDelivery(TOKEN, fake.url + "/api/").dm_channel(TOM)
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        slack.client.chat_postMessage(channel=channel, text="t", blocks=[SECTION] * 51)
    signal_ts = post_signals(slack, channel, ["s1conv"])["s1conv"]
    person = WebClient(token=fake.user_token(ANA), base_url=fake.url + "/api/")
    for name in ("white_check_mark", "x", "eyes::skin-tone-2"):
        person.reactions_add(channel=channel, timestamp=signal_ts, name=name)
    person.reactions_remove(channel=channel, timestamp=signal_ts, name="x")
    slack.client.reactions_get(channel=channel, timestamp=signal_ts, full=True)
    fake.history_page_size = 100
    assert slack.read_reactions(channel, 0, ANA) == {"s1conv": "converted"}
    for call, error in (
            (lambda: person.reactions_add(channel=channel, timestamp=signal_ts,
                                          name="white_check_mark"), "already_reacted"),
            (lambda: person.reactions_remove(channel=channel, timestamp=signal_ts,
                                             name="x"), "no_reaction"),
            (lambda: slack.client.reactions_get(channel=channel, timestamp="1.000001"),
             "message_not_found")):
        with pytest.raises(SlackApiError, match=error):
            call()
    fake.revoke("im:history")
    with pytest.raises(DeliveryError, match="missing_scope"):
        slack.read_reactions(channel, 0, ANA)
    reacted = [body for req, resp in fake.exchanges for body in [resp.body]
               if req.path.endswith("conversations.history") and body.get("ok")
               and any("reactions" in m for m in body["messages"])]
    assert reacted  # the schema below checked messages carrying reactions
    checked = set()
    for request, response in fake.exchanges:
        method = request.path.removeprefix("/api/")
        _check_request(spec, method, request)
        _check_response(spec, method, response.body)
        checked.add((method, response.body["ok"]))
    assert checked == {(m, ok) for m in ("users.lookupByEmail", "conversations.open",
                                         "chat.postMessage", "conversations.history",
                                         "reactions.add", "reactions.remove",
                                         "reactions.get")
                       for ok in (True, False)}


SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "x"}}


@pytest.mark.parametrize(("blocks", "text", "error"), [
    ([SECTION] * 51, "t", "invalid_blocks"),
    ([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}], "t",
     "invalid_blocks"),
    ([{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}], "t",
     "invalid_blocks"),
    ([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2900}}] * 5, "t",
     "msg_blocks_too_long"),
    (None, "x" * 40_001, "msg_too_long"),
    (None, "", "no_text"),
])
def test_fake_enforces_slacks_message_limits(fake, slack, blocks, text, error):
    channel = slack.dm_channel(ANA)
    payload = {"channel": channel, "text": text, **({"blocks": blocks} if blocks else {})}
    with pytest.raises(SlackApiError) as caught:  # api_call: slack_sdk would warn on no text
        slack.client.api_call("chat.postMessage", json=payload)
    assert caught.value.response["error"] == error
    assert fake.messages(channel) == []
