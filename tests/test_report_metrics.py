"""The success metric's rules (contract §12), on hand-built delivered signals and
outcome records: the 14-day boundary, unknown against no conversation, the trailing
window, the breakdowns, bands, month completeness and the two-month warning."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from esd.outcomes.metrics import (
    MIN_DELIVERED,
    NEEDS_REVIEW,
    NO_TRIGGER,
    Tally,
    band_of,
    classify,
    measure,
    month_end,
)
from esd.state import DeliveredSignal, OutcomeRecord

AS_OF = datetime(2026, 11, 23, tzinfo=UTC)


def sig(sid: str, delivered: date, sku: str = "enterprise-tier",
        owner: str = "ana@x.example", triggers: tuple[str, ...] = ("SSO",),
        action_row: str | None = "SSO row") -> DeliveredSignal:
    return DeliveredSignal(sid, delivered, owner, f"acct-{sid}", sku, triggers, action_row,
                           "D1", "1.1")


def rec(sid: str, outcome: str, on: date) -> OutcomeRecord:
    return OutcomeRecord(sid, outcome, on, "manual")


D = date(2026, 11, 2)  # a Monday delivery


@pytest.mark.parametrize("days, expected", [
    (0, "converted"), (7, "converted"), (14, "converted"),  # day 14: the second run after
    (15, "no_conversation"), (40, "no_conversation"),  # a late confirmation
    (-1, "no_conversation"),  # dated before the signal was delivered
])
def test_a_confirmation_counts_within_14_days_of_delivery(days, expected):
    record = rec("s1", "converted", D + timedelta(days=days))
    assert classify(sig("s1", D), record, date(2026, 12, 31)) == expected


@pytest.mark.parametrize("age, expected", [(0, "unknown"), (13, "unknown"),
                                           (14, "no_conversation"), (60, "no_conversation")])
def test_no_outcome_is_unknown_for_14_days_then_no_conversation(age, expected):
    assert classify(sig("s1", D), None, D + timedelta(days=age)) == expected


@pytest.mark.parametrize("outcome, expected", [("noise", "noise"),
                                               ("no-conversation", "no_conversation")])
def test_noise_and_no_conversation_count_whenever_recorded(outcome, expected):
    # Even inside the 14 days: the CSM has said so.
    assert classify(sig("s1", D), rec("s1", outcome, D + timedelta(days=1)),
                    D + timedelta(days=2)) == expected


def test_late_confirmations_are_counted_apart():
    signals = [sig("s1", D), sig("s2", D), sig("s3", D)]
    outcomes = {"s1": rec("s1", "converted", D + timedelta(days=14)),
                "s2": rec("s2", "converted", D + timedelta(days=15))}
    m = measure(signals, outcomes, AS_OF)
    assert (m.trailing.converted, m.trailing.no_conversation) == (1, 2)
    assert m.trailing.converted_outside_14d == 1
    assert m.recorded == 2


def test_the_trailing_window_is_the_30_days_up_to_as_of():
    end = AS_OF.date()
    signals = [sig("old", end - timedelta(days=30)), sig("first", end - timedelta(days=29)),
               sig("today", end), sig("future", end + timedelta(days=1))]
    m = measure(signals, {}, AS_OF)
    assert m.trailing.delivered == 2  # (as_of - 30 d, as_of]
    assert (m.trailing.unknown, m.trailing.no_conversation) == (1, 1)
    # The month table counts every delivery up to as-of, nothing after it.
    assert [(x.month, x.tally.delivered) for x in m.months] == [("2026-10", 2),
                                                                ("2026-11", 1)]


def test_breakdowns_count_a_signal_once_under_each_phrase():
    day = AS_OF.date() - timedelta(days=21)
    signals = [
        sig("a", day, sku="seats", owner="ben@x.example", triggers=("new team", "SSO")),
        sig("b", day, triggers=("SSO", "SSO")),  # a phrase listed twice counts once
        sig("c", day, triggers=(), action_row=None),
    ]
    outcomes = {"a": rec("a", "converted", day), "b": rec("b", "noise", day)}
    m = measure(signals, outcomes, AS_OF)
    assert {k: (t.delivered, t.converted, t.noise) for k, t in m.by_trigger.items()} == {
        "SSO": (2, 1, 1), "new team": (1, 1, 0), NO_TRIGGER: (1, 0, 0)}
    assert list(m.by_trigger) == ["SSO", NO_TRIGGER, "new team"]  # most delivered first
    assert {k: t.delivered for k, t in m.by_sku.items()} == {"enterprise-tier": 2, "seats": 1}
    assert {k: t.delivered for k, t in m.by_action.items()} == {"SSO row": 2, NEEDS_REVIEW: 1}
    assert {k: t.converted for k, t in m.by_csm.items()} == {"ana@x.example": 0,
                                                             "ben@x.example": 1}
    assert m.trailing.delivered == 3


def test_rates_and_the_empty_case():
    assert Tally().conversion_rate is None and Tally().max_rate is None
    t = Tally(delivered=40, converted=9, noise=5, no_conversation=14, unknown=12)
    assert t.conversion_rate == pytest.approx(0.225)
    assert t.max_rate == pytest.approx(0.525)
    m = measure([], {}, AS_OF)
    assert m.trailing.delivered == 0 and m.months == [] and m.warnings == []


@pytest.mark.parametrize("converted, delivered, band", [
    (19, 100, "below-20"), (1, 5, "under-band"), (20, 100, "under-band"),
    (24, 100, "under-band"), (1, 4, "healthy"), (2, 5, "healthy"), (3, 15, "under-band"),
    (41, 100, "above-40"), (0, 10, "below-20")])
def test_bands_at_their_edges(converted, delivered, band):
    assert band_of(converted, delivered) == band


def test_no_verdict_under_the_minimum_and_open_signals_mark_it_provisional():
    assert Tally(delivered=MIN_DELIVERED - 1, converted=4, no_conversation=5).band == "too-few"
    settled = Tally(delivered=MIN_DELIVERED, converted=3, no_conversation=7)
    assert (settled.band, settled.band_final) == ("healthy", True)
    # 2 of 10 so far is under the band; 3 open could take it to 50 %.
    open_ = Tally(delivered=10, converted=2, no_conversation=5, unknown=3)
    assert (open_.band, open_.band_final) == ("under-band", False)
    # 3 of 12 with one open stays healthy either way.
    assert Tally(delivered=12, converted=3, no_conversation=8, unknown=1).band_final


def test_month_end_and_completeness():
    assert month_end("2028-02") == date(2028, 2, 29) and month_end("2026-12") == date(
        2026, 12, 31)
    signals = [sig("s1", date(2026, 10, 31))]
    before = measure(signals, {}, datetime(2026, 11, 13, tzinfo=UTC)).months[0]
    on = measure(signals, {}, datetime(2026, 11, 14, tzinfo=UTC)).months[0]
    assert (before.complete, on.complete) == (False, True)
    assert before.complete_on == date(2026, 11, 14)
    # A complete month holds no unknown signal, even one delivered on its last day.
    assert (before.tally.unknown, on.tally.unknown) == (1, 0)


def month(key: str, delivered: int, converted: int, day: int = 5) -> tuple[list, dict]:
    """`delivered` signals on one day of month `key`, the first `converted` confirmed."""
    when = date.fromisoformat(f"{key}-{day:02d}")
    signals = [sig(f"{key}-{i}", when) for i in range(delivered)]
    return signals, {s.signal_id: rec(s.signal_id, "converted", when)
                     for s in signals[:converted]}


def history(*months: tuple[str, int, int]) -> tuple[list, dict]:
    signals, outcomes = [], {}
    for key, delivered, converted in months:
        s, o = month(key, delivered, converted)
        signals += s
        outcomes |= o
    return signals, outcomes


def test_two_consecutive_complete_months_below_20_warn_with_months_rates_and_advice():
    signals, outcomes = history(("2026-08", 20, 6), ("2026-09", 20, 3), ("2026-10", 25, 4))
    m = measure(signals, outcomes, AS_OF)  # October is complete from 2026-11-14
    assert [x.complete for x in m.months] == [True, True, True]
    (warning,) = m.warnings
    assert "2 consecutive complete months" in warning
    assert "2026-09 (15 %, 3 of 20)" in warning and "2026-10 (16 %, 4 of 25)" in warning
    assert "2026-08" not in warning  # 30 % was fine
    assert "tighten the taxonomy" in warning and "rewrite half the actions" in warning


def test_a_longer_run_and_the_turn_of_the_year_are_one_warning():
    signals, outcomes = history(("2026-11", 20, 2), ("2026-12", 20, 3), ("2027-01", 20, 1))
    (warning,) = measure(signals, outcomes, datetime(2027, 2, 20, tzinfo=UTC)).warnings
    assert "3 consecutive complete months" in warning
    assert all(k in warning for k in ("2026-11", "2026-12", "2027-01"))


@pytest.mark.parametrize("months, as_of", [
    # a fine month between two low ones
    ((("2026-08", 20, 2), ("2026-09", 20, 6), ("2026-10", 20, 2)), AS_OF),
    # the second low month is not complete yet (complete from 2026-11-14)
    ((("2026-09", 20, 2), ("2026-10", 20, 2)), datetime(2026, 11, 13, tzinfo=UTC)),
    # no deliveries in September: August and October are not consecutive
    ((("2026-08", 20, 2), ("2026-10", 20, 2)), AS_OF),
    # too few signals in October for a verdict
    ((("2026-09", 20, 2), ("2026-10", MIN_DELIVERED - 1, 0)), AS_OF),
    # an old dip since fixed: the latest complete month is fine
    ((("2026-07", 20, 2), ("2026-08", 20, 2), ("2026-09", 20, 2), ("2026-10", 20, 7)),
     AS_OF),
    # 20 % exactly is not below 20 %
    ((("2026-09", 20, 4), ("2026-10", 20, 4)), AS_OF),
])
def test_no_warning(months, as_of):
    signals, outcomes = history(*months)
    assert measure(signals, outcomes, as_of).warnings == []


def test_the_warning_control_case_of_the_table_above_does_warn():
    """The same data as the first no-warning case, with the fine month made low."""
    signals, outcomes = history(("2026-08", 20, 2), ("2026-09", 20, 2), ("2026-10", 20, 2))
    assert len(measure(signals, outcomes, AS_OF).warnings) == 1


def test_no_outcome_recorded_at_all_is_said_plainly():
    signals, _ = history(("2026-09", 20, 0), ("2026-10", 20, 0))
    warnings = measure(signals, {}, AS_OF).warnings
    assert len(warnings) == 2  # the 20 % one, and why it reads 0 %
    assert "No outcome is recorded for any of the 40 delivered signals" in warnings[1]
    # Once anything is recorded, or while every signal is still open, it is not said.
    one = {signals[0].signal_id: rec(signals[0].signal_id, "noise", signals[0].delivered_on)}
    assert len(measure(signals, one, AS_OF).warnings) == 1
    fresh = [sig("new", AS_OF.date())]
    assert measure(fresh, {}, AS_OF).warnings == []
