"""Exactly once under faults (contract §11): a fake Slack on 127.0.0.1 that drops the
connection after storing a post, fails a given message, rate-limits with long or
unreadable Retry-After, and a real `esd run` process SIGKILLed at seeded random posts
then rerun, or started twice at once on one state store (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import ROOT
from fakes import slack as slack_fake
from fakes.server import serving
from test_run import AS_OF, CSMS, DEMO, REFS

from esd.delivery.ledger import deliver
from esd.delivery.slack import POST_ATTEMPTS, SlackDelivery
from esd.format import digest_filename
from esd.models import Diagnostics, Digest, RunResult
from esd.state import State

ANA = CSMS[0]
KILL_ITERATIONS = 10
SEED = 20261123


def long_digest(sections: int = 90) -> str:
    body = "\n\n".join(f"### {i}. Account {i}\n\n> \"" + "We need more seats. " * 12 + "\""
                       for i in range(sections))
    return f"# Expansion-signal digest — {AS_OF} — Ana Ruiz\n\n{body}\n"


def one_digest_run(markdown: str) -> tuple[RunResult, dict[str, str]]:
    digest = Digest(owner_email=ANA, csm_name="Ana Ruiz", strong=[], weak=[], overflow=0,
                    accounts_owned=1)
    result = RunResult(
        as_of=datetime(2026, 11, 23, tzinfo=UTC), window_days=7, coverage_pct=80.0,
        diagnostics=Diagnostics(accounts_in_scope=1, accounts_silent=0, negative_matches=0,
                                champion_suppressions=0, taxonomy_hash="abc1234"),
        digests=[digest], not_signal=[], accounts={})
    return result, {digest_filename(ANA): markdown}


def tally(fake: slack_fake.FakeSlack, emails: list[str]) -> tuple[int, int]:
    """(duplicates, losses) over `emails`: every part 1..parts of each CSM's digest must
    be in their DM exactly once."""
    duplicates = losses = 0
    for email in emails:
        payloads = [m["metadata"]["event_payload"] for m in fake.messages_to(email)
                    if m.get("metadata")]
        seen = Counter(p["part"] for p in payloads)
        parts = max((p["parts"] for p in payloads), default=1)
        duplicates += sum(n - 1 for n in seen.values())
        losses += sum(1 for part in range(1, parts + 1) if part not in seen)
    return duplicates, losses


@pytest.fixture
def fake():
    api = slack_fake.FakeSlack(CSMS)
    with serving(api):
        yield api


@pytest.fixture
def messenger(fake) -> SlackDelivery:
    return SlackDelivery(slack_fake.TOKEN, fake.url + "/api/", sleep=lambda _: None)


def test_connection_closed_after_the_post_was_stored_is_not_posted_again(fake, messenger):
    channel = messenger.dm_channel(ANA)
    fake.drop_after_store()
    marker = {"week": AS_OF, "owner": ANA, "gen": 0, "part": 1, "parts": 1}
    ts = messenger.post_part(channel, messenger.split(long_digest(2))[0], marker, 0)
    [stored] = fake.messages(channel)
    assert ts == stored["ts"] and fake.posts == 1  # found in the history, not re-sent


def test_a_digest_interrupted_at_each_message_sends_only_the_missing_on_rerun(fake, tmp_path):
    markdown = long_digest()
    parts = len(SlackDelivery.split(markdown))
    assert parts >= 3
    for broken in range(1, parts + 1):
        fake.reset()
        messenger = SlackDelivery(slack_fake.TOKEN, fake.url + "/api/", sleep=lambda _: None)
        state = State.open(str(tmp_path / f"state-{broken}.db"))
        result, files = one_digest_run(markdown)
        fake.server_error("chat.postMessage", after=broken - 1, times=POST_ATTEMPTS)
        first = deliver(result, files, state, messenger)
        assert [email for email, _ in first.missed] == [ANA]
        assert fake.posts == broken - 1
        again = deliver(result, files, state, messenger)
        assert again.missed == [] and fake.posts == parts  # only the missing ones
        assert (again.resumed == [ANA]) == (broken > 1)
        assert tally(fake, [ANA]) == (0, 0)
        assert state.delivery(result.as_of, ANA).status == "sent"
        state.close()


def test_a_dropped_connection_midway_through_a_digest_leaves_no_duplicate(fake, tmp_path):
    markdown = long_digest()
    messenger = SlackDelivery(slack_fake.TOKEN, fake.url + "/api/", sleep=lambda _: None)
    state = State.open(str(tmp_path / "state.db"))
    result, files = one_digest_run(markdown)
    fake.drop_after_store(times=2, after=1)
    outcome = deliver(result, files, state, messenger)
    assert outcome.sent == [ANA] and tally(fake, [ANA]) == (0, 0)
    assert fake.posts == len(SlackDelivery.split(markdown))
    state.close()


@pytest.mark.parametrize(("retry_after", "why"), [
    ("3600", "more than [http] max_wait_s = 120 s"), ("soon", "unreadable")])
def test_long_or_unreadable_retry_after_misses_the_csm_without_waiting(
        fake, tmp_path, retry_after, why):
    fake.rate_limit("chat.postMessage", retry_after=retry_after, times=100)
    waits: list[float] = []
    messenger = SlackDelivery(slack_fake.TOKEN, fake.url + "/api/", sleep=waits.append)
    state = State.open(str(tmp_path / "state.db"))
    result, files = one_digest_run(long_digest(2))
    outcome = deliver(result, files, state, messenger)
    [(email, reason)] = outcome.missed
    assert email == ANA and f"Retry-After '{retry_after}', {why}" in reason
    assert waits == [] and fake.posts == 0
    assert state.delivery(result.as_of, ANA).status == "failed"
    state.close()


def test_retry_after_within_max_wait_is_honoured(fake, tmp_path):
    fake.rate_limit("chat.postMessage", retry_after="7", times=2)
    waits: list[float] = []
    messenger = SlackDelivery(slack_fake.TOKEN, fake.url + "/api/", sleep=waits.append,
                              max_wait_s=10)
    channel = messenger.dm_channel(ANA)
    messenger.post_digest(channel, long_digest(2), {"week": AS_OF, "owner": ANA})
    assert waits == [7.0, 7.0] and fake.posts == 1
    toml = {"http": {"max_wait_s": 5}}
    assert SlackDelivery.from_env({"SLACK_BOT_TOKEN": "x"}, toml).max_wait_s == 5


# -- a real `esd run` process, killed and rerun, or twice at once -------------------------

def run_command(fake: slack_fake.FakeSlack, state: str, folder: Path) -> tuple[list, dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ESD_", "SLACK_"))}
    env.update(PYTHONPATH=str(ROOT), SLACK_BOT_TOKEN=slack_fake.TOKEN,
               SLACK_API_URL=fake.url + "/api/")
    command = [sys.executable, "-m", "esd.cli", "run", "--input-dir", str(DEMO),
               "--references", str(REFS), "--as-of", AS_OF, "--state", state,
               "--fallback", str(folder / "undelivered"), "--extractor", "rules", "--quiet"]
    return command, env


def kill_and_rerun(iteration: int, folder: Path) -> tuple[int, int, str]:
    """One iteration: a run SIGKILLed at a seeded random post (before Slack stores it,
    or after it did but before the client hears back), then a rerun to completion."""
    rng = random.Random(SEED + iteration)
    when = rng.choice(["before", "after"])
    fake = slack_fake.FakeSlack(CSMS)
    folder.mkdir()
    with serving(fake):
        command, env = run_command(fake, str(folder / "state.db"), folder)
        killed = subprocess.Popen(command, env=env, cwd=folder, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        target = rng.randint(1, len(CSMS))

        def kill(moment: str, n: int) -> None:
            if moment == when and n == target:
                os.kill(killed.pid, signal.SIGKILL)
                fake.on_post = None
                if moment == "before":
                    raise ConnectionAbortedError("killed before storing")

        fake.on_post = kill
        killed.communicate(timeout=60)
        assert killed.returncode == -signal.SIGKILL, f"iteration {iteration} was not killed"
        rerun = subprocess.run(command, env=env, cwd=folder, capture_output=True, text=True,
                               timeout=60)
        assert rerun.returncode == 0, rerun.stderr
        duplicates, losses = tally(fake, CSMS)
    return duplicates, losses, f"post {target} {when}"


def test_sigkill_at_random_posts_then_rerun_never_doubles_or_loses(tmp_path, capsys):
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda i: kill_and_rerun(i, tmp_path / f"kill-{i}"),
                                range(KILL_ITERATIONS)))
    duplicates = sum(r[0] for r in results)
    losses = sum(r[1] for r in results)
    with capsys.disabled():
        print(f"\nkill-and-rerun: {KILL_ITERATIONS} iterations, {duplicates} duplicates, "
              f"{losses} losses ({', '.join(r[2] for r in results)})")
    assert (duplicates, losses) == (0, 0)


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_two_runs_started_together_deliver_once(fake, tmp_path, store, request):
    state = (str(tmp_path / "state.db") if store == "sqlite"
             else request.getfixturevalue("postgres").new_database())
    fake.slow(slack_fake.path("chat.postMessage"), 0.2)  # the winner is still delivering
    command, env = run_command(fake, state, tmp_path)
    runs = [subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=60) for run in runs]
    codes = sorted(run.returncode for run in runs)
    assert codes == [0, 5], outputs
    loser = outputs[[run.returncode for run in runs].index(5)][1]
    assert "is delivering on the state store" in loser and "process" in loser
    assert "Traceback" not in loser
    assert tally(fake, CSMS) == (0, 0)
    assert all(fake.messages_to(email) for email in CSMS)
