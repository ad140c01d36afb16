"""esd backtest against a state store filled through the State API (contract §12, §13):
what was delivered then, what became of it, and what the current references keep, drop
and add; the flooding memory as esd run keeps it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from builders import write_portfolio
from test_backtest import ANA, AS_OF, BEN, WEEKS, backtest, records

from esd.connectors.files import load_portfolio
from esd.models import Signal, signal_id
from esd.outcomes.backtest import (
    CsmWeek,
    TriggerPhrases,
    Week,
    aborted_week,
    flood_history,
)
from esd.pipeline import run_pipeline
from esd.state import OutcomeRecord, State

W4, W5 = (datetime.fromisoformat(w + "T00:00:00+00:00") for w in WEEKS[3:])


def strong(as_of: datetime, owner: str, account: str, sku: str = "enterprise-tier"):
    return Signal(account_id=account, sku=sku, strength="strong",
                  signal_id=signal_id(as_of, owner, account, sku))


def deliver(store: State, refs, portfolio, as_of: datetime,
            listed: dict[str, list[Signal]]) -> None:
    """Record the run of `as_of` as an older taxonomy would have listed it (`listed`,
    per CSM) and every digest delivered, one message per strong signal."""
    run = run_pipeline(portfolio, refs, as_of=as_of, cap_per_csm=3)
    for digest in run.digests:
        digest.strong = listed.get(digest.owner_email, [])
        digest.overflow = 0
    store.record_run(run, {d.owner_email: len(d.strong) for d in run.digests})
    for digest in run.digests:
        channel, parts = f"D-{digest.owner_email}", len(digest.strong) + 1
        store.record_intent(as_of, digest.owner_email, channel, "sha", window_days=7)
        store.record_part(as_of, digest.owner_email, 1, parts, "sent", ts="1.0")
        for part, signal in enumerate(digest.strong, start=2):
            store.record_part(as_of, digest.owner_email, part, parts, "sent",
                              ts=f"{part}.0", signal_id=signal.signal_id)
        store.record_sent(as_of, digest.owner_email, channel, "1.0", "sha")


@pytest.fixture
def filled(tmp_path, state_target, refs):
    """Weeks 4 and 5 delivered by an older taxonomy, with outcomes recorded."""
    folder = write_portfolio(tmp_path / "five-weeks", **records())
    portfolio = load_portfolio(folder)
    store = State.open(state_target)
    a1_w4, a4_w4 = strong(W4, ANA, "a1"), strong(W4, ANA, "a4", "additional-team-seats")
    deliver(store, refs, portfolio, W4, {ANA: [a1_w4, a4_w4]})
    w5 = {aid: strong(W5, ANA, aid) for aid in ("a1", "a2", "a4")}
    b1_w5 = strong(W5, BEN, "b1")
    deliver(store, refs, portfolio, W5, {ANA: list(w5.values()), BEN: [b1_w5]})
    store.record_outcomes([
        OutcomeRecord(a1_w4.signal_id, "converted", date(2026, 11, 20), "reaction"),
        OutcomeRecord(a4_w4.signal_id, "noise", date(2026, 11, 17), "reaction"),
        OutcomeRecord(w5["a1"].signal_id, "converted", date(2026, 11, 25), "manual"),
        OutcomeRecord(w5["a4"].signal_id, "noise", date(2026, 11, 24), "reaction"),
        # Converted, but 27 days after delivery: not within the 14 days of §12.
        OutcomeRecord(b1_w5.signal_id, "converted", date(2026, 12, 20), "import"),
    ])
    before = (store.history(), store.delivered_signals(), store.outcomes(), store.run_count())
    store.close()
    return folder, state_target, before


def test_delivered_then_against_what_the_current_references_keep(filled, tmp_path):
    folder, target, before = filled
    out = tmp_path / "bt"
    result = backtest("--input-dir", str(folder), "--weeks", "5", "--as-of", AS_OF,
                      "--state", target, "--no-quiet", out=out)
    assert result.exit_code == 0, result.output
    outcomes = json.loads((out / "backtest.json").read_text())["outcomes"]
    weeks = {w["as_of"][:10]: w for w in outcomes["weeks"]}
    assert [w["recorded"] for w in outcomes["weeks"]] == [False, False, False, True, True]
    w4, w5 = weeks[WEEKS[3]], weeks[WEEKS[4]]
    # Week 4: a1 (converted) is still listed; a4's seat signal is now capped out (noise).
    assert w4["then"] == {"delivered": 2, "converted": 1, "noise": 1, "no_conversation": 0,
                          "unknown": 0, "precision": 0.5}
    assert (w4["kept"]["delivered"], w4["kept"]["precision"]) == (1, 1.0)
    assert w4["dropped"]["now"] == {"capped": 1, "weak": 0, "none": 0}
    assert w4["new"] == 2  # a2 and a3, listed now for Ana
    # Week 5: a4 (noise) has no signal now; b1's late conversion counts as none.
    assert w5["then"] == {"delivered": 4, "converted": 1, "noise": 1, "no_conversation": 1,
                          "unknown": 1, "precision": 0.3333}
    assert w5["kept"] == {"delivered": 3, "converted": 1, "noise": 0, "no_conversation": 1,
                          "unknown": 1, "precision": 0.5}
    assert (w5["dropped"]["noise"], w5["dropped"]["now"]["none"]) == (1, 1)
    assert w5["new"] == 2  # b2 and b3, listed now for Ben
    overall = outcomes["overall"]
    assert (overall["then"]["precision"], overall["kept"]["precision"]) == (0.4, 0.6667)
    assert (overall["dropped"]["delivered"], overall["dropped"]["noise"], overall["new"]) == (
        2, 2, 4)
    said = " ".join(result.output.split())
    assert "precision 40% then, 67% for the 4 the current references keep" in said
    md = (out / "backtest.md").read_text()
    assert f"| {WEEKS[4]} | 4 | 1 | 1 | 1 | 1 | 33% | 3 | 50% | 1 (0/0/1) | 2 |" in md
    assert f"| {WEEKS[1]} | not run |" in md
    # Read only: nothing recorded, delivered or changed in the store.
    store = State.open(target, create=False)
    try:
        assert (store.history(), store.delivered_signals(), store.outcomes(),
                store.run_count()) == before
    finally:
        store.close()


def test_a_store_that_does_not_exist_is_not_created(tmp_path):
    folder = write_portfolio(tmp_path / "in", **records())
    missing = tmp_path / "nope" / "state.db"
    result = backtest("--input-dir", str(folder), "--weeks", "2", "--as-of", AS_OF,
                      "--state", str(missing), out=tmp_path / "bt")
    assert result.exit_code == 0, result.output
    assert not missing.exists() and not missing.parent.exists()


def test_an_unreadable_store_exits_4_naming_it(tmp_path):
    folder = write_portfolio(tmp_path / "in", **records())
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not a database" * 100)
    result = backtest("--input-dir", str(folder), "--weeks", "2", "--as-of", AS_OF,
                      "--state", str(broken), out=tmp_path / "bt")
    assert result.exit_code == 4 and "broken.db" in result.output
    assert not (tmp_path / "bt").exists()


def week(as_of: datetime, totals: dict[str, int], aborted: bool = False) -> Week:
    if aborted:
        return aborted_week(as_of, 10.0, "coverage error")
    return Week(as_of=as_of, coverage_pct=80.0,
                csms=[CsmWeek(e, min(n, 3), max(0, n - 3), 0) for e, n in totals.items()])


def test_flood_memory_is_what_esd_run_would_have_recorded(tmp_path, refs):
    """The backtest's memory against State.strong_history over the same recorded runs:
    aborted weeks are not recorded, a CSM missing from a run breaks the streak."""
    start = datetime(2026, 10, 5, tzinfo=UTC)
    plan = [({ANA: 5, BEN: 4}, False), ({ANA: 4}, False), ({}, True), ({ANA: 6, BEN: 5}, False),
            ({ANA: 4, BEN: 4}, False)]
    weeks = [week(start + timedelta(weeks=k), t, a) for k, (t, a) in enumerate(plan)]
    store = State.open(str(tmp_path / "memory.db"))
    portfolio = load_portfolio(write_portfolio(tmp_path / "in", **records()))
    try:
        for k, w in enumerate(weeks):
            if not w.aborted:
                run = run_pipeline(portfolio, refs, as_of=w.as_of, coverage_guard=False)
                store.record_run(run, {c.owner_email: c.strong_total for c in w.csms})
            following = w.as_of + timedelta(weeks=1)  # the memory this week leaves it
            assert flood_history(weeks[:k + 1], before=w.as_of) == \
                store.strong_history(following, 7), w.as_of
    finally:
        store.close()
    assert flood_history(weeks, before=weeks[-1].as_of) == {ANA: [6, 4], BEN: [5, 4]}


def test_trigger_phrases_are_named_as_the_taxonomy_writes_them(refs):
    phrases = TriggerPhrases(refs.taxonomy)
    assert phrases("additional-team-seats", "need 25 more seats") == "need {N} more seats"
    assert phrases("enterprise-tier", "do you support sso") == "do you support SSO"
    assert phrases("enterprise-tier", "need 25 more seats") == "need 25 more seats"
    assert phrases("no-such-sku", "saml") == "saml"


@pytest.mark.parametrize("days", [14, 15])
def test_a_conversion_counts_within_14_days_of_delivery(days):
    from esd.outcomes.backtest import fate
    from esd.state import DeliveredSignal

    sent = DeliveredSignal("abc1234", date(2026, 11, 23), ANA, "a1", "enterprise-tier", (),
                           None, None, None)
    record = OutcomeRecord("abc1234", "converted", date(2026, 11, 23) + timedelta(days=days),
                           "manual")
    assert fate(sent, record) == ("converted" if days == 14 else "no_conversation")
    assert fate(sent, None) == "unknown"
    assert fate(sent, OutcomeRecord("abc1234", "no-conversation", date(2026, 11, 24),
                                    "manual")) == "no_conversation"
