"""`esd run` end to end: the demo week delivered to a fake Slack (real HTTP), the
state database remembering what went out (contract §1, §6, §11)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import ROOT, fake_fixture
from fakes import slack as slack_fake
from typer.testing import CliRunner

from esd.app import digest
from esd.app.settings import Settings, parse_as_of
from esd.cli import app
from esd.delivery.slack import SlackDelivery
from esd.state import State

DEMO = ROOT / "examples" / "portfolio"
REFS = DEMO / "references"
AS_OF = "2026-11-23"
CSMS = [f"{name}@lumen.example.com" for name in (
    "ana.ruiz", "diego.morales", "jess.okafor", "marcus.chen", "priya.natarajan",
    "tom.becker")]
WARNING = "_Strong-signal threshold may be too loose — last 3 runs averaged"


slack = fake_fixture(lambda: slack_fake.FakeSlack(CSMS), scope="function")


def env(slack) -> dict[str, str]:
    return {"SLACK_BOT_TOKEN": slack_fake.TOKEN, "SLACK_API_URL": slack.url + "/api/"}


def esd_run(slack, *extra: str, input_dir: Path = DEMO, as_of: str = AS_OF):
    return CliRunner().invoke(app, [
        "run", "--input-dir", str(input_dir), "--references", str(REFS), "--as-of", as_of,
        "--no-quiet", *extra], env=env(slack))


def first_messages(slack, email: str) -> list[dict]:
    """The first message of every digest posted to `email` (the one with metadata)."""
    return [m for m in slack.messages_to(email)
            if (m.get("metadata") or {}).get("event_payload", {}).get("part") == 1]


def test_every_csm_gets_one_dm_and_a_rerun_sends_nothing(slack):
    result = esd_run(slack)
    assert result.exit_code == 0, result.output
    assert "Sent 6 digests for the week ending 2026-11-23." in result.output
    for email in CSMS:
        [message] = first_messages(slack, email)
        payload = message["metadata"]["event_payload"]
        assert (payload["week"], payload["owner"]) == (AS_OF, email)
    posted = sum(len(slack.messages_to(e)) for e in CSMS)
    again = esd_run(slack)
    assert again.exit_code == 0 and "Sent 0 digests, 6 already sent" in again.output
    assert sum(len(slack.messages_to(e)) for e in CSMS) == posted
    forced = esd_run(slack, "--resend")
    assert forced.exit_code == 0 and all(len(first_messages(slack, e)) == 2 for e in CSMS)


def test_partial_failure_then_rerun_sends_only_the_missing(slack, tmp_path):
    missing = "diego.morales@lumen.example.com"
    del slack.users[missing]  # not in Slack (yet)
    result = esd_run(slack, "--fallback", str(tmp_path / "undelivered"))
    assert result.exit_code == 4
    assert missing in result.output and "users_not_found" in result.output
    fallback = tmp_path / "undelivered" / AS_OF / f"{missing}.md"
    assert fallback.read_text().startswith("# Expansion-signal digest — 2026-11-23 — Diego")
    assert all(len(first_messages(slack, e)) == 1 for e in CSMS if e != missing)
    slack.users[missing] = slack_fake.user_id_for(missing)  # IT added them
    again = esd_run(slack)
    assert again.exit_code == 0, again.output
    assert "Sent 1 digests, 5 already sent" in again.output
    assert all(len(first_messages(slack, e)) == 1 for e in CSMS)


class CrashAfterPosting(SlackDelivery):
    """Dies right after Slack accepted the last message of one CSM's digest, before esd
    records it."""

    victim = "ana.ruiz@lumen.example.com"

    def post_part(self, channel, message, marker, oldest):
        ts = super().post_part(channel, message, marker, oldest)
        if marker["owner"] == self.victim and marker["part"] == marker["parts"]:
            raise KeyboardInterrupt("power cut")
        return ts


def settings() -> Settings:
    return Settings(input_dir=DEMO, references=REFS, as_of=parse_as_of(AS_OF))


def test_crash_between_post_and_record_does_not_double_post(slack, tmp_path):
    state = State.open(str(tmp_path / "state.db"))
    crashing = CrashAfterPosting.from_env(env(slack))
    with pytest.raises(KeyboardInterrupt):
        digest.run(settings(), state, crashing, tmp_path / "fallback")
    victim = CrashAfterPosting.victim
    assert state.delivery(settings().as_of, victim).status == "posting"
    assert len(first_messages(slack, victim)) == 1
    outcome = digest.run(settings(), state, SlackDelivery.from_env(env(slack)),
                         tmp_path / "fallback").delivery
    assert outcome.reconciled == [victim]
    assert len(first_messages(slack, victim)) == 1  # found in Slack, not posted again
    assert state.delivery(settings().as_of, victim).status == "sent"
    assert all(len(first_messages(slack, e)) == 1 for e in CSMS)
    state.close()


def test_an_intent_whose_post_never_arrived_is_posted_once(slack, tmp_path):
    state = State.open(str(tmp_path / "state.db"))
    messenger = SlackDelivery.from_env(env(slack))
    victim = "tom.becker@lumen.example.com"
    channel = messenger.dm_channel(victim)
    state.record_intent(settings().as_of, victim, channel, "sha")  # died before posting
    outcome = digest.run(settings(), state, messenger, tmp_path / "fallback").delivery
    assert victim in outcome.sent and outcome.reconciled == []
    assert len(first_messages(slack, victim)) == 1
    state.close()


def _shifted(tmp_path: Path, weeks: int) -> Path:
    """The demo week moved `weeks` weeks back in time."""
    target = tmp_path / f"week-{weeks}"
    target.mkdir()
    shift = timedelta(weeks=weeks)
    for source in DEMO.glob("*.json"):
        records = json.loads(source.read_text())
        if isinstance(records, list):
            for record in records:
                for key in ("occurred_at", "opened_at"):
                    if record.get(key):
                        moment = datetime.fromisoformat(record[key].replace("Z", "+00:00"))
                        record[key] = (moment - shift).isoformat()
        (target / source.name).write_text(json.dumps(records))
    return target


def test_flooding_warning_on_the_third_consecutive_over_cap_run(slack, tmp_path):
    ana = "ana.ruiz@lumen.example.com"  # 5 strong signals a week, cap 3
    for weeks_back, as_of in ((2, "2026-11-09"), (1, "2026-11-16"), (0, "2026-11-23")):
        result = esd_run(slack, input_dir=_shifted(tmp_path, weeks_back), as_of=as_of)
        assert result.exit_code == 0, result.output
    texts = ["\n".join(block_texts(m)) for m in first_messages(slack, ana)]
    assert len(texts) == 3
    assert WARNING not in texts[0] and WARNING not in texts[1]
    assert WARNING in texts[2] and "averaged 5.0 per week" in texts[2]
    tom = "tom.becker@lumen.example.com"  # never over the cap
    assert all(WARNING not in "\n".join(block_texts(m)) for m in first_messages(slack, tom))


def block_texts(message: dict) -> list[str]:
    out = [message.get("text", "")]
    for block in message.get("blocks") or []:
        text = block.get("text")
        if isinstance(text, dict):
            out.append(text.get("text", ""))
    return out


def test_missing_slack_token_is_named_before_any_request(tmp_path):
    result = CliRunner().invoke(app, ["run", "--input-dir", str(DEMO), "--references",
                                      str(REFS), "--as-of", AS_OF])
    assert result.exit_code == 2 and "SLACK_BOT_TOKEN is not set" in result.output


def test_every_weekly_run_joins_the_quarters_segment_snapshot(slack, tmp_path):
    state = str(tmp_path / "state.db")
    assert esd_run(slack, "--state", state).exit_code == 0
    store = State.open(state)
    try:
        rows = store.snapshots()
    finally:
        store.close()
    demo = json.loads((DEMO / "accounts.json").read_text())
    assert {r["quarter"] for r in rows} == {"2026-Q4"}
    assert len(rows) == len(demo)
    expected = json.loads((DEMO / "expected.json").read_text())
    s01 = next(row[1] for row in expected["scenarios"] if row[0] == "S01")
    silent = set(expected["silent"])
    by_id = {r["account_id"]: r for r in rows}
    assert by_id[s01]["had_signal"] and by_id[s01]["potential"] == "HIGH"
    assert not any(by_id[a]["had_signal"] for a in silent)
