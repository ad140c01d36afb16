"""`esd run --only` (a pilot) and `esd run --preview-to` (contract §1), end to end over
the demo week against the fake Slack (real HTTP) and the state store."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import fake_fixture
from fakes import slack as slack_fake
from test_run import AS_OF, CSMS, DEMO, REFS, env
from typer.testing import CliRunner

from esd.cli import app
from esd.delivery.reactions import verdicts
from esd.state import State

ANA, DIEGO, JESS, MARCUS, PRIYA, TOM = CSMS
LEAD = "lead@lumen.example.com"  # a CS lead, in Slack, who owns no account
POST = "/api/chat.postMessage"

slack = fake_fixture(lambda: slack_fake.FakeSlack([*CSMS, LEAD]), scope="function")


def esd_run(slack, state: Path, *extra: str):
    return CliRunner().invoke(app, [
        "run", "--input-dir", str(DEMO), "--references", str(REFS), "--as-of", AS_OF,
        "--state", str(state), "--no-quiet", *extra], env=env(slack))


def payload(message: dict) -> dict:
    return (message.get("metadata") or {}).get("event_payload") or {}


def digests_to(slack, email: str) -> list[dict]:
    """The first message of every digest in `email`'s DM."""
    return [m for m in slack.messages_to(email) if payload(m).get("part") == 1]


def posts(slack) -> int:
    return sum(1 for request, _ in slack.exchanges if request.path == POST)


def stored(state: Path, sql: str) -> list[tuple]:
    store = State.open(str(state))
    try:
        return [tuple(row) for row in store.db.execute(sql)]
    finally:
        store.close()


def outcome_rows(state: Path) -> list[tuple]:
    return stored(state, "SELECT signal_id, outcome FROM outcomes")


# --- --only --------------------------------------------------------------------------


def test_only_delivers_to_the_pilot_csms_and_a_full_run_later_delivers_the_rest(
        slack, tmp_path):
    state = tmp_path / "state.db"
    pilot = esd_run(slack, state, "--only", f"{ANA}, {TOM.upper()}")
    assert pilot.exit_code == 0, pilot.output
    assert "Sent 2 digests for the week ending 2026-11-23. Left untouched (not in --only): " \
           "4 CSMs." in pilot.output
    assert [len(digests_to(slack, e)) for e in CSMS] == [1, 0, 0, 0, 0, 1]
    # Each quote's call id links to the call in Gong (the demo's calls carry metaData.url).
    quotes = [line for m in slack.messages_to(ANA) for b in m["blocks"] if "text" in b
              for line in b["text"]["text"].split("\n") if line.startswith('> "')]
    assert len(quotes) == 3
    assert all(re.search(r'" — .+ \(<https://app\.gong\.io/call\?id=(\d+)\|\1>\)$', q)
               for q in quotes), quotes
    # The others are neither delivered nor missed: no row at all.
    assert sorted(stored(state, "SELECT owner_email, status FROM deliveries")) == [
        (ANA, "sent"), (TOM, "sent")]
    history = CliRunner().invoke(app, ["history", "--state", str(state), "--json"])
    assert '"missed": []' in history.output and DIEGO not in history.output

    full = esd_run(slack, state)
    assert full.exit_code == 0, full.output
    assert "Sent 4 digests, 2 already sent for the week ending 2026-11-23." in full.output
    assert [len(digests_to(slack, e)) for e in CSMS] == [1] * 6


def test_only_signals_of_the_pilot_count_as_delivered(slack, tmp_path):
    state = tmp_path / "state.db"
    assert esd_run(slack, state, "--only", ANA).exit_code == 0
    delivered = stored(state, "SELECT DISTINCT s.owner_email FROM signals s JOIN "
                              "delivery_parts p ON p.signal_id = s.signal_id "
                              "AND p.status = 'sent'")
    listed = stored(state, "SELECT DISTINCT owner_email FROM signals")
    assert delivered == [(ANA,)]
    assert len(listed) == 5  # every CSM with a strong signal is listed, as in a full run


@pytest.mark.parametrize("only, named", [
    (f"{ANA},nobody@lumen.example.com", "nobody@lumen.example.com owns no account"),
    ("Nobody@X.example,ghost@x.example", "ghost@x.example, nobody@x.example own no account"),
    ("", "--only: no email given"),
    ("ana.ruiz", "--only: 'ana.ruiz' is not an email"),
])
def test_an_unknown_only_email_exits_2_naming_it_and_sends_nothing(slack, tmp_path, only,
                                                                     named):
    state = tmp_path / "state.db"
    result = esd_run(slack, state, "--only", only)
    assert result.exit_code == 2, result.output
    assert named in " ".join(result.output.split())
    assert posts(slack) == 0
    if state.exists():
        assert stored(state, "SELECT COUNT(*) FROM runs") == [(0,)]


# --- --preview-to ----------------------------------------------------------------------


def test_a_preview_goes_to_one_reviewer_once_and_is_not_a_delivery(slack, tmp_path):
    state = tmp_path / "state.db"
    first = esd_run(slack, state, "--preview-to", LEAD.upper())
    assert first.exit_code == 0, first.output
    assert f"Sent 6 previews to {LEAD} for the week ending 2026-11-23." in first.output
    previews = digests_to(slack, LEAD)
    assert [payload(m)["owner"] for m in previews] == CSMS
    for message, email in zip(previews, CSMS, strict=True):
        top = message["blocks"][0]["text"]["text"]
        assert top.startswith("*Preview* of ") and f"({email})" in top
        assert "has not received it" in top
        assert payload(message)["preview"] == LEAD
    assert all("signal" not in payload(m) for m in slack.messages_to(LEAD))
    assert all(slack.messages_to(e) == [] for e in CSMS)
    # Recorded apart: no delivery, no run, no delivered signal.
    assert stored(state, "SELECT COUNT(*) FROM deliveries") == [(0,)]
    assert stored(state, "SELECT COUNT(*) FROM runs") == [(0,)]
    assert stored(state, "SELECT COUNT(*) FROM delivery_parts") == [(0,)]
    assert len(stored(state, "SELECT * FROM preview_deliveries WHERE status = 'sent'")) == 6

    posted = len(slack.messages_to(LEAD))
    again = esd_run(slack, state, "--preview-to", LEAD)
    assert again.exit_code == 0, again.output
    assert "Sent 0 previews" in again.output and "6 already sent" in again.output
    assert len(slack.messages_to(LEAD)) == posted  # nothing doubled

    real = esd_run(slack, state)
    assert real.exit_code == 0, real.output
    assert "Sent 6 digests for the week ending 2026-11-23." in real.output
    assert [len(digests_to(slack, e)) for e in CSMS] == [1] * 6
    assert len(digests_to(slack, LEAD)) == 6
    # The reviewer saw each digest as its CSM now does: a message per strong signal.
    for email in CSMS:
        shown = [m for m in slack.messages_to(LEAD) if payload(m).get("owner") == email]
        assert len(shown) == len(slack.messages_to(email))
    assert len(slack.messages_to(ANA)) > 3  # Ana's three strong signals, each alone

    resent = esd_run(slack, state, "--preview-to", LEAD, "--resend")
    assert resent.exit_code == 0 and len(digests_to(slack, LEAD)) == 12


def test_only_and_preview_combine(slack, tmp_path):
    result = esd_run(slack, tmp_path / "state.db", "--preview-to", LEAD, "--only", JESS)
    assert result.exit_code == 0, result.output
    assert [payload(m)["owner"] for m in digests_to(slack, LEAD)] == [JESS]


def test_a_preview_post_of_unknown_fate_is_found_not_doubled(slack, tmp_path):
    slack.drop_after_store(times=1, after=2)  # the third preview lands, its answer is lost
    result = esd_run(slack, tmp_path / "state.db", "--preview-to", LEAD)
    assert result.exit_code == 0, result.output
    assert [payload(m)["owner"] for m in digests_to(slack, LEAD)] == CSMS


def test_a_reviewer_slack_cannot_find_stops_before_anything_is_posted(slack, tmp_path):
    state = tmp_path / "state.db"
    result = esd_run(slack, state, "--preview-to", "nobody@lumen.example.com")
    assert result.exit_code == 4
    assert "nobody@lumen.example.com" in result.output and "users_not_found" in result.output
    assert posts(slack) == 0


def test_reactions_on_a_preview_never_count(slack, tmp_path):
    from test_reactions import react

    state = tmp_path / "state.db"
    assert esd_run(slack, state, "--only", ANA).exit_code == 0
    # Ana previews her own digest, in her own DM, after it was delivered.
    assert esd_run(slack, state, "--preview-to", ANA, "--only", ANA).exit_code == 0
    [delivered, preview] = digests_to(slack, ANA)
    assert "preview" in payload(preview) and "preview" not in payload(delivered)
    for message in slack.messages_to(ANA):
        if payload(message).get("preview"):
            react(slack, ANA, message["ts"], "white_check_mark")
    after = esd_run(slack, state)
    assert after.exit_code == 0, after.output
    assert "Read reactions in 1 DM (1 request): no new outcomes." in after.output
    assert outcome_rows(state) == []
    # The reading itself refuses a preview's message even if it named a signal.
    fake = {"ts": "1.0", "reactions": [{"name": "x", "users": ["U1"], "count": 1}],
            "metadata": {"event_type": "esd_digest",
                         "event_payload": {"preview": LEAD, "signal": "abc1234"}}}
    real = {**fake, "metadata": {"event_type": "esd_digest",
                                 "event_payload": {"signal": "abc1234"}}}
    assert verdicts([fake]) == ({}, [])
    assert verdicts([real]) == ({"abc1234": "noise"}, [])


def test_a_preview_in_the_csms_own_dm_is_never_taken_for_their_digest(slack, tmp_path):
    from esd.app.settings import parse_as_of

    state = tmp_path / "state.db"
    assert esd_run(slack, state, "--preview-to", ANA, "--only", ANA).exit_code == 0
    store = State.open(str(state))
    try:  # a real run died after recording its intent, before posting anything
        store.record_intent(parse_as_of(AS_OF), ANA, slack.channel_of(ANA), "sha")
    finally:
        store.close()
    result = esd_run(slack, state, "--only", ANA)
    assert result.exit_code == 0, result.output
    assert "Sent 1 digests for the week" in result.output  # not "found already posted"
    real = [m for m in slack.messages_to(ANA) if "preview" not in payload(m)]
    assert [payload(m)["part"] for m in real] == list(range(1, payload(real[0])["parts"] + 1))
