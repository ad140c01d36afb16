"""Outcomes from reactions (contract §12), end to end: `esd run` delivers each strong
signal in a DM message of its own, the CSM reacts on it in Slack (✅ converted, ❌
noise), and the next `esd run` reads the reactions first and records them, dated by its
own as-of. Real HTTP to the fake Slack; the state store on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from conftest import fake_fixture
from fakes import slack as slack_fake
from slack_sdk import WebClient
from test_run import AS_OF, CSMS, DEMO, REFS, _shifted, env
from typer.testing import CliRunner

from esd.app import digest
from esd.app.settings import Settings, parse_as_of
from esd.cli import app
from esd.delivery.slack import SlackDelivery
from esd.state import State

ANA, DIEGO, JESS, MARCUS, PRIYA, TOM = CSMS
WITH_SIGNALS = [ANA, JESS, MARCUS, PRIYA, TOM]  # Diego has no strong signal in the demo
HISTORY = "/api/conversations.history"

fake = fake_fixture(lambda: slack_fake.FakeSlack(CSMS), scope="function")


def week(tmp_path: Path, as_of: str) -> Path:
    """The demo's inputs moved so that the week ending `as_of` holds them."""
    weeks = (date.fromisoformat(AS_OF) - date.fromisoformat(as_of)).days // 7
    if weeks == 0:
        return DEMO
    target = tmp_path / f"week-{weeks}"
    return target if target.exists() else _shifted(tmp_path, weeks)


def esd_run(fake, tmp_path: Path, as_of: str, state: str, *extra: str):
    return CliRunner().invoke(app, [
        "run", "--input-dir", str(week(tmp_path, as_of)), "--references", str(REFS),
        "--as-of", as_of, "--state", state, *extra], env=env(fake))


def delivered(state: str, week: str | None = None) -> dict[str, dict[str, str]]:
    """owner -> {signal id -> ts of its message}, as the state store has them (of the
    window ending `week`)."""
    store = State.open(state)
    try:
        out: dict[str, dict[str, str]] = {}
        for signal in store.delivered_signals():
            if week in (None, signal.delivered_on.isoformat()):
                out.setdefault(signal.owner_email, {})[signal.signal_id] = signal.ts
        return out
    finally:
        store.close()


def outcome_rows(state: str) -> list[tuple[str, str, str, str]]:
    """Every outcome record, in the order recorded: (id, outcome, date, source)."""
    store = State.open(state)
    try:
        return [tuple(row) for row in store.db.execute(
            "SELECT signal_id, outcome, outcome_date, source FROM outcomes ORDER BY seq")]
    finally:
        store.close()


def react(fake, email: str, ts: str, name: str, remove: bool = False) -> None:
    """The CSM reacts in Slack (their own token, real HTTP), or takes it back."""
    client = WebClient(token=fake.user_token(email), base_url=fake.url + "/api/")
    method = client.reactions_remove if remove else client.reactions_add
    method(channel=fake.channel_of(email), timestamp=ts, name=name)


def history_calls(fake, since: int = 0) -> Counter:
    """conversations.history requests per channel, from exchange `since` on."""
    return Counter(_arg(req, "channel") for req, _ in fake.exchanges[since:]
                   if req.path == HISTORY)


def _arg(request, name: str) -> str | None:
    return slack_fake.request_args(request).get(name)


def test_each_strong_signal_is_its_own_message_carrying_its_id(fake, tmp_path):
    state = str(tmp_path / "state.db")
    assert esd_run(fake, tmp_path, AS_OF, state).exit_code == 0
    listed = {d.owner_email: [s.signal_id for s in d.strong]
              for d in digest.dry_run(Settings(input_dir=DEMO, references=REFS,
                                               as_of=parse_as_of(AS_OF)), None).run.digests}
    recorded = delivered(state)
    assert sum(map(len, listed.values())) == 10
    for email in CSMS:
        messages = fake.messages_to(email)
        carrying = [(m["metadata"]["event_payload"]["signal"], m) for m in messages
                    if "signal" in m["metadata"]["event_payload"]]
        assert sorted(sid for sid, _ in carrying) == sorted(listed[email])
        for sid, message in carrying:
            text = "\n".join(b["text"]["text"] for b in message["blocks"] if "text" in b)
            assert text.count(sid) == 1  # the id is shown in its own message
            others = [o for o in listed[email] if o != sid]
            assert not any(o in text for o in others)  # and no other signal's
            assert recorded[email][sid] == message["ts"]  # delivery_parts.signal_id
        assert len(messages) > len(carrying)  # the header and weak signals stand apart
    assert DIEGO not in recorded


def test_reactions_are_recorded_by_the_next_run_dated_by_its_as_of(fake, tmp_path,
                                                                   state_target):
    first = esd_run(fake, tmp_path, "2026-11-16", state_target, "--no-quiet")
    assert first.exit_code == 0, first.output
    assert "Read reactions" not in first.output  # nothing delivered before
    sent = delivered(state_target)
    ana, tom, marcus, priya = (sorted(sent[e].items()) for e in (ANA, TOM, MARCUS, PRIYA))
    react(fake, ANA, ana[0][1], "white_check_mark")  # ✅ led to a conversation
    react(fake, TOM, tom[0][1], "x")  # ❌ not a real signal
    react(fake, MARCUS, marcus[0][1], "heavy_check_mark::skin-tone-3")
    react(fake, ANA, ana[1][1], "white_check_mark")  # both ways: says neither
    react(fake, ANA, ana[1][1], "x")
    react(fake, PRIYA, priya[0][1], "eyes")  # no verdict

    mark = len(fake.exchanges)
    second = esd_run(fake, tmp_path, "2026-11-23", state_target, "--no-quiet")
    assert second.exit_code == 0, second.output
    assert ("Read reactions in 5 DMs (5 requests): 3 new outcomes recorded (2 converted, "
            "1 noise).") in second.output
    assert "Sent 6 digests for the week ending 2026-11-23." in second.output
    assert sorted(outcome_rows(state_target)) == sorted([
        (ana[0][0], "converted", "2026-11-23", "reaction"),
        (marcus[0][0], "converted", "2026-11-23", "reaction"),
        (tom[0][0], "noise", "2026-11-23", "reaction")])
    # One conversations.history request per CSM's DM, all before the week's first post.
    assert history_calls(fake, mark) == {fake.channel_of(e): 1 for e in WITH_SIGNALS}
    paths = [req.path for req, _ in fake.exchanges[mark:]]
    assert max(i for i, p in enumerate(paths) if p == HISTORY) < paths.index(
        "/api/chat.postMessage")
    request = next(req for req, _ in fake.exchanges[mark:] if req.path == HISTORY)
    assert (_arg(request, "limit"), _arg(request, "include_all_metadata")) == ("100", "1")
    assert float(_arg(request, "oldest")) < float(min(ts for _, ts in ana))

    mark = len(fake.exchanges)
    rerun = esd_run(fake, tmp_path, "2026-11-23", state_target, "--no-quiet")
    assert rerun.exit_code == 0, rerun.output
    assert "Read reactions in 5 DMs (5 requests): no new outcomes." in rerun.output
    assert len(outcome_rows(state_target)) == 3
    assert history_calls(fake, mark) == {fake.channel_of(e): 1 for e in WITH_SIGNALS}

    react(fake, ANA, ana[0][1], "white_check_mark", remove=True)  # Ana changes her mind
    react(fake, ANA, ana[0][1], "x")
    third = esd_run(fake, tmp_path, "2026-11-30", state_target, "--no-quiet")
    assert third.exit_code == 0, third.output
    assert "1 new outcome recorded (1 noise)." in third.output
    rows = outcome_rows(state_target)
    assert rows[3:] == [(ana[0][0], "noise", "2026-11-30", "reaction")]
    store = State.open(state_target)
    try:
        assert store.outcomes()[ana[0][0]].outcome == "noise"
    finally:
        store.close()


def test_a_digest_older_than_five_weeks_is_not_read(fake, tmp_path):
    state = str(tmp_path / "state.db")
    assert esd_run(fake, tmp_path, "2026-12-28", state).exit_code == 0
    mark = len(fake.exchanges)
    backfill = esd_run(fake, tmp_path, "2026-11-16", state, "--no-quiet")  # posted later
    assert backfill.exit_code == 0, backfill.output
    assert history_calls(fake, mark) == {}  # the 2026-12-28 digests are not its past
    [(old, old_ts), *_] = sorted(delivered(state, "2026-11-16")[TOM].items())
    [(new, new_ts), *_] = sorted(delivered(state, "2026-12-28")[TOM].items())
    assert float(old_ts) > float(new_ts)  # in the DM's history after the newer week's
    react(fake, TOM, old_ts, "white_check_mark")
    react(fake, TOM, new_ts, "white_check_mark")

    mark = len(fake.exchanges)
    rerun = esd_run(fake, tmp_path, "2026-12-28", state, "--no-quiet")  # six weeks on
    assert rerun.exit_code == 0, rerun.output
    assert history_calls(fake, mark) == {fake.channel_of(e): 1 for e in WITH_SIGNALS}
    assert outcome_rows(state) == [(new, "converted", "2026-12-28", "reaction")]

    mark = len(fake.exchanges)
    on_time = esd_run(fake, tmp_path, "2026-12-21", state, "--no-quiet")  # five weeks on
    assert on_time.exit_code == 0, on_time.output
    assert history_calls(fake, mark) == {fake.channel_of(e): 1 for e in WITH_SIGNALS}
    assert outcome_rows(state)[1:] == [(old, "converted", "2026-12-21", "reaction")]


def test_a_missing_scope_is_a_warning_and_the_week_is_still_delivered(fake, tmp_path):
    state = str(tmp_path / "state.db")
    assert esd_run(fake, tmp_path, "2026-11-16", state).exit_code == 0
    [(sid, ts), *_] = sorted(delivered(state)[JESS].items())
    react(fake, JESS, ts, "x")
    fake.revoke("im:history")  # the app was installed before esd read reactions

    result = esd_run(fake, tmp_path, "2026-11-23", state)  # quiet, as in CI
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == len(WITH_SIGNALS)
    assert (f"warning: Could not read reactions: Slack conversations.history failed for "
            f"{JESS}: missing_scope (the app needs the im:history scope; add it under OAuth "
            "& Permissions at api.slack.com/apps and reinstall the app). The next run "
            "tries again.") in warnings
    assert "Read reactions" not in result.output  # quiet: only the warnings
    assert outcome_rows(state) == []
    week_two = [m for e in CSMS for m in fake.messages_to(e)
                if m["metadata"]["event_payload"]["week"] == "2026-11-23"]
    assert {m["metadata"]["event_payload"]["owner"] for m in week_two} == set(CSMS)
    assert slack_fake.TOKEN not in result.output

    fake.scopes.add("im:history")  # fixed: the next run records what was missed
    again = esd_run(fake, tmp_path, "2026-11-30", state, "--no-quiet")
    assert again.exit_code == 0, again.output
    assert "warning:" not in again.output
    assert outcome_rows(state) == [(sid, "noise", "2026-11-30", "reaction")]


def settings(tmp_path: Path, as_of: str) -> Settings:
    return Settings(input_dir=week(tmp_path, as_of), references=REFS,
                    as_of=parse_as_of(as_of))


def first_week_with_a_reaction(fake, tmp_path) -> tuple[State, str]:
    """A state store holding the week of 2026-11-16, delivered; Ana ✅ on one signal."""
    state = str(tmp_path / "state.db")
    assert esd_run(fake, tmp_path, "2026-11-16", state).exit_code == 0
    [(sid, ts), *_] = sorted(delivered(state)[ANA].items())
    react(fake, ANA, ts, "white_check_mark")
    return State.open(state), sid


def test_a_rate_limited_history_is_waited_for_and_retried(fake, tmp_path):
    store, sid = first_week_with_a_reaction(fake, tmp_path)
    waits: list[float] = []
    messenger = SlackDelivery(slack_fake.TOKEN, fake.url + "/api/", sleep=waits.append)
    fake.rate_limit("conversations.history", retry_after="7")
    try:
        done = digest.run(settings(tmp_path, AS_OF), store, messenger, tmp_path / "fb")
        recorded = store.outcomes()
    finally:
        store.close()
    assert waits == [7.0]
    assert done.exit_code == 0 and done.reactions.warnings == []
    assert (done.reactions.dms, done.reactions.requests) == (5, 6)  # one retried
    assert done.reactions.recorded == [sid] and recorded[sid].outcome == "converted"
    assert len(done.delivery.sent) == 6


def test_a_retry_after_beyond_max_wait_is_a_warning_not_a_wait(fake, tmp_path):
    store, _ = first_week_with_a_reaction(fake, tmp_path)
    waits: list[float] = []
    messenger = SlackDelivery(slack_fake.TOKEN, fake.url + "/api/", sleep=waits.append)
    fake.rate_limit("conversations.history", retry_after="600")
    try:
        done = digest.run(settings(tmp_path, AS_OF), store, messenger, tmp_path / "fb")
    finally:
        store.close()
    assert waits == []
    [warning] = done.reactions.warnings
    assert f"conversations.history failed for {ANA}: rate-limited with Retry-After " \
           "'600', more than [http] max_wait_s = 120 s" in warning
    assert (done.reactions.dms, done.reactions.recorded) == (4, [])
    assert done.exit_code == 0 and len(done.delivery.sent) == 6


def test_a_dm_slack_no_longer_knows_is_a_warning(fake, tmp_path):
    store, _ = first_week_with_a_reaction(fake, tmp_path)
    fake.forget_channel(ANA)  # the DM is gone (say, the workspace was migrated)
    messenger = SlackDelivery(slack_fake.TOKEN, fake.url + "/api/", sleep=lambda _: None)
    try:
        done = digest.run(settings(tmp_path, AS_OF), store, messenger, tmp_path / "fb")
    finally:
        store.close()
    [warning] = done.reactions.warnings
    assert f"failed for {ANA}: channel_not_found (the DM channel is gone" in warning
    assert done.reactions.csms == [JESS, MARCUS, PRIYA, TOM]
    assert done.exit_code == 0 and ANA in done.delivery.sent


@pytest.mark.parametrize("emoji, outcome", [
    ("white_check_mark", "converted"), ("heavy_check_mark", "converted"), ("x", "noise"),
    ("x::skin-tone-2", "noise"), ("white_check_mark::skin-tone-6", "converted"),
    ("thumbsup", None), ("heavy_multiplication_x", None)])
def test_which_emoji_say_what(emoji, outcome):
    from esd.delivery.reactions import outcomes_of

    assert outcomes_of([{"name": emoji, "users": ["U1"], "count": 1}]) == (
        {outcome} if outcome else set())
