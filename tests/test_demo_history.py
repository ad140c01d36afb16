"""The demo's eight past weeks and its state store: what `esd backtest` and `esd report`
show a new user (examples/tools/make_past_weeks.py, examples/tools/make_demo_state.py).

tests/test_demo_portfolio.py checks that the demo week (2026-11-23) still comes out as
expected.json says; this file checks the weeks before it and the recorded outcomes.
"""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from conftest import ROOT

DEMO = ROOT / "examples" / "portfolio"
sys.path.insert(0, str(ROOT / "examples" / "tools"))

import make_demo_state as demo_state  # noqa: E402
import make_past_weeks as past_weeks  # noqa: E402

CAP = 3
FLOODING = "threshold may be too loose"


def records(name: str) -> list[dict]:
    return json.loads((DEMO / f"{name}.json").read_text(encoding="utf-8"))


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    state, slack = demo_state.build(tmp_path_factory.mktemp("state") / "demo-state.db")
    yield state, slack
    state.close()


def test_every_past_week_has_calls_for_every_csm():
    owner = {a["id"]: a["owner_email"] for a in records("accounts")}
    calls = records("calls")
    assert len(past_weeks.WEEK_ENDS) == 8
    assert past_weeks.WEEK_ENDS[-1] + timedelta(days=7) == moment("2026-11-23T00:00:00Z")
    for end in past_weeks.WEEK_ENDS:
        inside = [c for c in calls if end - timedelta(days=7) <= moment(c["occurred_at"]) < end]
        assert {owner[c["account_id"]] for c in inside} == set(owner.values()), end
        coverage = len({c["account_id"] for c in inside}) / len(owner)
        assert 0.6 <= coverage <= 0.8, (end, coverage)  # no coverage warning, no abort
        spoken = [c for c in inside if "transcript" in c or "transcript_text" in c]
        assert len(spoken) >= 120, end


def test_ids_stay_unique():
    for name, key in (("calls", "call_id"), ("usage_events", "event_id"),
                      ("support_tickets", "ticket_id")):
        ids = [r[key] for r in records(name)]
        assert len(ids) == len(set(ids)), name


def test_past_weeks_reach_neither_the_demo_window_nor_its_lookback():
    """The demo week stays as expected.json says (tests/test_demo_portfolio.py): the
    records from its window on are exactly the demo week's own, and so are the
    stakeholder changes of its 30-day look-back."""
    base = past_weeks.gp.demo_week(
        references=past_weeks.demo_references(DEMO / "references"))[2]
    window_start, lookback_start = "2026-11-16T00:00:00Z", "2026-10-24T00:00:00Z"
    for name, stamp in (("calls", "occurred_at"), ("usage_events", "occurred_at"),
                        ("support_tickets", "opened_at")):
        own = [r for r in base[name] if r[stamp] >= window_start]
        assert [r for r in records(name) if r[stamp] >= window_start] == own != [], name
        assert len(records(name)) > 3 * len(base[name]), name  # and the past weeks' many

    def lookback(changes):
        return [c for c in changes if lookback_start <= c["occurred_at"]]

    assert lookback(records("stakeholder_changes")) == lookback(base["stakeholder_changes"])
    assert len(records("stakeholder_changes")) > len(base["stakeholder_changes"])


def test_the_generator_reproduces_the_committed_files(tmp_path):
    past_weeks.write(tmp_path)
    for name in (*past_weeks.RECORD_FILES, "accounts", "health", "expected"):
        assert (tmp_path / f"{name}.json").read_bytes() == \
            (DEMO / f"{name}.json").read_bytes(), name


def test_strong_counts_follow_the_plan_and_one_csm_floods(store):
    state, slack = store
    emails = sorted(past_weeks.PLANNED[past_weeks.WEEK_ENDS[0].date().isoformat()])
    history = state.strong_history(moment("2026-11-23T00:00:00Z"), 7, runs=8)
    got = {end.date().isoformat(): {e: history[e][i] for e in emails}
           for i, end in enumerate(past_weeks.WEEK_ENDS)}
    assert got == past_weeks.PLANNED
    over = {e: [got[w][e] > CAP for w in sorted(got)] for e in emails}
    assert sum(any(weeks) for weeks in over.values()) >= 4  # several CSMs over the cap
    streaks = {e for e, weeks in over.items()
               if any(all(weeks[i:i + 3]) for i in range(len(weeks) - 2))}
    assert streaks == {"ana.ruiz@lumen.example.com"}
    flooded = {(marker["week"], marker["owner"]) for messages in slack.posted.values()
               for _, marker, message in messages if FLOODING in message.text
               or any(FLOODING in json.dumps(b) for b in message.blocks)}
    assert flooded == {("2026-10-26", "ana.ruiz@lumen.example.com")}
    # The last two weeks must not leave a streak for the demo week to inherit.
    assert not any(over["ana.ruiz@lumen.example.com"][-2:])


def test_outcomes_csv_names_exactly_the_delivered_signals(store):
    state, _ = store
    delivered = state.delivered_signals()
    ids = {s.signal_id for s in delivered}
    with (DEMO / "outcomes.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["signal_id", "outcome", "date", "note"]
    listed = [r["signal_id"] for r in rows]
    assert len(listed) == len(set(listed))
    assert set(listed) <= ids  # no orphan outcome
    assert set(state.outcomes()) == set(listed)
    planned, unknown = demo_state.plan_outcomes(delivered)
    assert demo_state.render_csv(planned) == (DEMO / "outcomes.csv").read_text(
        encoding="utf-8")  # what the delivered signals give, so nothing drifted
    assert set(listed) | unknown == ids and not set(listed) & unknown
    # Every delivered signal is its own message, as esd run's real splitter makes it.
    assert all(s.ts for s in delivered)


def test_outcome_mix_months_and_the_noisy_trigger(store):
    """About 30 % converted within 14 days, a noisy 'audit log' trigger in the trailing 30
    days, September below 20 % and October healthy: one month below the line, so no
    two-months warning."""
    state, _ = store
    outcomes = state.outcomes()

    def fate(signal) -> str:
        record = outcomes.get(signal.signal_id)
        if record is None:
            return "unknown"
        if record.outcome == "converted" and record.on > signal.delivered_on + timedelta(14):
            return "late"
        return record.outcome

    def rate(signals) -> float:
        return sum(fate(s) == "converted" for s in signals) / len(signals)

    delivered = state.delivered_signals()
    assert len(delivered) >= 70
    assert all(r.on < date(2026, 11, 23) for r in outcomes.values())
    mature = [s for s in delivered if s.delivered_on <= date(2026, 11, 2)]
    assert 0.25 <= rate(mature) <= 0.35
    mix = Counter(fate(s) for s in delivered)
    assert 0.10 <= mix["noise"] / len(delivered) <= 0.20
    assert mix["no-conversation"] > 0 and mix["late"] == 1
    recent = [s for s in delivered if s.delivered_on >= date(2026, 11, 9)]
    assert sum(fate(s) == "unknown" for s in recent) > len(recent) / 2
    september = [s for s in delivered if s.delivered_on.month == 9]
    october = [s for s in delivered if s.delivered_on.month == 10]
    assert len(september) >= 10 and len(october) >= 10  # enough for a month's verdict
    assert rate(september) < 0.20 <= 0.25 <= rate(october) <= 0.40
    # The noisy trigger sits in the report's trailing 30 days, with enough signals to judge.
    noisy = [s for s in delivered if "audit log" in s.triggers]
    others = [s for s in delivered if "audit log" not in s.triggers]
    assert len(noisy) >= 10 and all(s.delivered_on > date(2026, 10, 24) for s in noisy)
    assert sum(fate(s) == "noise" for s in noisy) / len(noisy) >= 0.7
    assert rate(noisy) < 0.20 <= 0.25 <= rate(others)
