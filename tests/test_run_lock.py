"""One delivering run per state store, state-store faults and secrets, the run's
identity and overlap rule, and [slack.users] (contract §1, §6, §8, §11)."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from conftest import fake_fixture
from fakes import slack as slack_fake
from test_run import AS_OF, CSMS, DEMO, REFS, first_messages
from typer.testing import CliRunner

from esd.app.settings import parse_as_of
from esd.cli import app
from esd.delivery.runlock import RunLock
from esd.errors import RunLocked, StateUnavailable
from esd.state import State

PASSWORD = "hunter2-very-secret"
slack = fake_fixture(lambda: slack_fake.FakeSlack(CSMS), scope="function")


def esd_run(slack, *extra: str, as_of: str = AS_OF):
    env = {"SLACK_BOT_TOKEN": slack_fake.TOKEN, "SLACK_API_URL": slack.url + "/api/"}
    return CliRunner().invoke(app, [
        "run", "--input-dir", str(DEMO), "--references", str(REFS), "--as-of", as_of,
        "--no-quiet", *extra], env=env)


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_lock_names_its_holder_and_a_crashed_holder_frees_it(state_target):
    first, second = State.open(state_target), State.open(state_target)
    with RunLock(first):
        with pytest.raises(RunLocked) as caught:
            RunLock(second).acquire()
        message = str(caught.value)
        assert f"host {socket.gethostname()}, process {os.getpid()}, started " in message
        assert caught.value.exit_code == 5
    with RunLock(second):  # released on exit
        pass
    first.close()
    second.close()


def test_a_sqlite_lease_of_a_dead_process_or_past_its_time_is_taken_over(tmp_path):
    state = State.open(str(tmp_path / "state.db"))
    for host, pid, expires in ((socket.gethostname(), dead_pid(), 4e9),
                               ("other-host", 1, 0.0)):
        state.db.execute("INSERT INTO run_lock (name, host, pid, started_at, expires_at) "
                         "VALUES ('deliver', ?, ?, '2026-11-23T00:00:00Z', ?) ON CONFLICT "
                         "(name) DO UPDATE SET host = excluded.host, pid = excluded.pid, "
                         "expires_at = excluded.expires_at", (host, pid, expires))
        state.db.commit()
        with RunLock(state):
            pass
    state.db.execute("INSERT INTO run_lock (name, host, pid, started_at, expires_at) VALUES "
                     "('deliver', 'other-host', 1, '2026-11-23T06:00:00Z', 4e9)")
    state.db.commit()
    with pytest.raises(RunLocked, match="host other-host, process 1, started 2026-11-23T06"):
        RunLock(state).acquire()
    state.close()


def test_a_held_lock_is_exit_5_and_nothing_is_posted(slack, tmp_path):
    target = str(tmp_path / "state.db")
    holder = State.open(target)
    with RunLock(holder):
        result = esd_run(slack, "--state", target)
    holder.close()
    assert result.exit_code == 5 and "is delivering on the state store" in result.output
    assert all(slack.messages_to(e) == [] for e in CSMS)


def test_a_corrupt_store_is_exit_4_naming_it_and_nothing_is_posted(slack, tmp_path):
    target = tmp_path / "state.db"
    target.write_bytes(b"this is not a database" * 100)
    result = esd_run(slack, "--state", str(target))
    assert result.exit_code == 4, result.output
    assert f"state store {target} is unreadable" in result.output.replace("\n", "")
    assert "Traceback" not in result.output
    assert all(slack.messages_to(e) == [] for e in CSMS)


def test_a_locked_sqlite_store_is_state_unavailable(tmp_path):
    target = str(tmp_path / "state.db")
    State.open(target).close()
    blocker = sqlite3.connect(target)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StateUnavailable, match="database is locked") as caught:
            State.open(target, timeout=0.1)
        assert caught.value.exit_code == 4
    finally:
        blocker.rollback()
        blocker.close()


def test_an_unreachable_postgres_store_masks_its_password(slack, postgres):
    url = f"postgresql://esd:{PASSWORD}@127.0.0.1:1/esd"
    result = CliRunner().invoke(app, [
        "-v", "run", "--input-dir", str(DEMO), "--references", str(REFS), "--as-of", AS_OF,
        "--state", url], env={"SLACK_BOT_TOKEN": slack_fake.TOKEN,
                              "SLACK_API_URL": slack.url + "/api/"})
    assert result.exit_code == 4, result.output
    assert "postgresql://esd:***@127.0.0.1:1/esd" in result.output.replace("\n", "")
    assert PASSWORD not in result.output and "Traceback" not in result.output


def test_a_password_in_slack_api_url_is_never_printed_or_stored(slack, tmp_path):
    target = str(tmp_path / "state.db")
    url = slack.url.replace("http://", f"http://bot:{PASSWORD}@") + "/api/"
    slack.fail_user(CSMS[0], "user_disabled", "conversations.open")
    result = CliRunner().invoke(app, [
        "-v", "run", "--input-dir", str(DEMO), "--references", str(REFS), "--as-of", AS_OF,
        "--state", target], env={"SLACK_BOT_TOKEN": slack_fake.TOKEN, "SLACK_API_URL": url})
    assert result.exit_code == 4 and "user_disabled" in result.output
    assert PASSWORD not in result.output
    assert all(first_messages(slack, e) for e in CSMS[1:])  # the others were delivered
    assert PASSWORD.encode() not in (tmp_path / "state.db").read_bytes()
    # Every file the run left (state store, fallback digests) and its whole output: no
    # password, no bot token.
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.parent.parent.name == "undelivered" for p in written)
    for secret in (PASSWORD, slack_fake.TOKEN):
        assert secret not in result.output
        assert [p for p in written if secret.encode() in p.read_bytes()] == []


def test_the_error_column_is_stored_redacted(state_target):
    state = State.open(state_target)
    as_of = datetime(2026, 11, 23, tzinfo=UTC)
    state.record_failed(as_of, "ana@x.example", "sha", f"proxy https://u:{PASSWORD}@h/ said no")
    assert state.delivery(as_of, "ana@x.example").error == "proxy https://u:***@h/ said no"
    state.close()


def test_as_of_defaults_to_today_midnight_utc():
    now = datetime(2026, 11, 25, 17, 42, 9, tzinfo=UTC)
    assert parse_as_of(None, now=now) == datetime(2026, 11, 25, tzinfo=UTC)
    assert parse_as_of(None, now=now.replace(hour=0, second=3)) == parse_as_of(None, now=now)


def test_an_overlapping_window_is_skipped_per_csm_unless_resend(slack, tmp_path):
    assert esd_run(slack).exit_code == 0
    later = esd_run(slack, as_of="2026-11-23T12:00:00")
    assert later.exit_code == 0, later.output
    for email in CSMS:
        assert len(first_messages(slack, email)) == 1
        assert (f"Skipped {email}: already delivered a digest for the window ending "
                "2026-11-23") in later.output.replace("\n", " ")
    forced = esd_run(slack, "--resend", as_of="2026-11-23T12:00:00")
    assert forced.exit_code == 0 and all(len(first_messages(slack, e)) == 2 for e in CSMS)
    # Adjacent windows do not overlap: test_run's flooding test delivers three in a row.


def test_slack_users_maps_a_csm_slack_knows_under_another_address(slack, tmp_path):
    ana, tom = CSMS[0], CSMS[-1]
    del slack.users[ana]
    slack.users["ana@lumen-old.example.com"] = "U0ANAOLD1"
    del slack.users[tom]
    slack.users["tom.b@lumen.example.com"] = "U0TOMNEW1"
    (tmp_path / "esd.toml").write_text(
        '[slack.users]\n"Ana.Ruiz@Lumen.example.com" = "ana@lumen-old.example.com"\n'
        f'"{tom}" = "U0TOMNEW1"\n')
    result = esd_run(slack)
    assert result.exit_code == 0, result.output
    assert len(first_messages(slack, "ana@lumen-old.example.com")) == 1
    assert len(first_messages(slack, "tom.b@lumen.example.com")) == 1


def test_a_bad_slack_users_entry_is_exit_2(slack, tmp_path):
    (tmp_path / "esd.toml").write_text('[slack.users]\n"ana@x.example" = "nobody"\n')
    result = esd_run(slack)
    assert result.exit_code == 2 and "[slack.users]" in result.output
    assert all(slack.messages_to(e) == [] for e in CSMS)
