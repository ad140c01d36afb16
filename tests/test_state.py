"""The state database, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from esd.models import Diagnostics, Digest, RunResult
from esd.state import MIGRATIONS, State, migration

AS_OF = datetime(2026, 11, 23, tzinfo=UTC)


def result(as_of: datetime, strong: int = 1) -> RunResult:
    digest = Digest(owner_email="ana@x.example", csm_name="Ana", strong=[], weak=[],
                    overflow=0, accounts_owned=3)
    return RunResult(as_of=as_of, window_days=7, coverage_pct=80.0, diagnostics=Diagnostics(
        accounts_in_scope=3, accounts_silent=0, negative_matches=0, champion_suppressions=0,
        taxonomy_hash="abc1234"), digests=[digest], not_signal=[], accounts={})


def test_migrations_apply_once_and_forward(state_target):
    state = State.open(state_target)
    assert state.migrate() == []  # applied on open already
    state.close()

    @migration
    def m999_add_note(db):
        db.execute("ALTER TABLE runs ADD COLUMN note TEXT")

    try:
        again = State.open(state_target)
        names = [r[0] for r in again.db.execute("SELECT name FROM _esd_migrations")]
        assert names == ["m001_initial", "m002_extraction_cache", "m003_segment_snapshots",
                         "m004_delivery_parts_and_lock", "m005_outcomes", "m006_previews",
                         "m999_add_note"]
        again.db.execute("SELECT note FROM runs")  # the column exists now
        again.close()
    finally:
        MIGRATIONS.remove(m999_add_note)


def test_rerun_of_a_window_replaces_its_record(state_target):
    state = State.open(state_target)
    state.record_run(result(AS_OF), {"ana@x.example": 5})
    state.record_run(result(AS_OF), {"ana@x.example": 2})
    assert state.run_count() == 1
    nxt = AS_OF + timedelta(days=7)
    assert state.strong_history(nxt, 7, runs=1) == {"ana@x.example": [2]}
    state.close()


def test_strong_history_needs_consecutive_windows(state_target):
    state = State.open(state_target)
    for weeks_back, total in ((3, 9), (2, 5), (1, 6)):
        state.record_run(result(AS_OF - timedelta(days=7 * weeks_back)),
                         {"ana@x.example": total, "ben@x.example": total})
    state.db.execute("DELETE FROM csm_runs WHERE owner_email = ? AND window_end = ?",
                     ("ben@x.example", "2026-11-09T00:00:00Z"))
    state.db.commit()
    history = state.strong_history(AS_OF, 7)
    assert history["ana@x.example"] == [5, 6]  # the two windows right before, oldest first
    assert "ben@x.example" not in history  # his gap two windows back breaks the run
    state.close()


def test_delivery_ledger_transitions(state_target):
    state = State.open(state_target)
    assert state.delivery(AS_OF, "ana@x.example") is None
    state.record_intent(AS_OF, "ana@x.example", "D1", "sha1")
    row = state.delivery(AS_OF, "ana@x.example")
    assert (row.status, row.channel, row.ts) == ("posting", "D1", None)
    state.record_failed(AS_OF, "ana@x.example", "sha1", "users_not_found")
    row = state.delivery(AS_OF, "ana@x.example")
    assert (row.status, row.channel, row.error) == ("failed", "D1", "users_not_found")
    state.record_sent(AS_OF, "ana@x.example", "D1", "1700000000.0001", "sha1")
    row = state.delivery(AS_OF, "ana@x.example")
    assert (row.status, row.ts, row.error) == ("sent", "1700000000.0001", None)
    assert state.delivery(AS_OF + timedelta(days=7), "ana@x.example") is None
    state.close()


def test_extraction_cache_round_trips_and_upserts(state_target):
    state = State.open(state_target)
    try:
        assert state.cached_answers(["k1", "k2"]) == {}
        state.store_answers({"k1": [{"sku": "x", "quote": "é"}], "k2": []}, "m1")
        state.store_answers({"k1": [{"sku": "y", "quote": "q"}]}, "m2")
        assert state.cached_answers(["k1", "k2", "k3", "k1"]) == {
            "k1": [{"sku": "y", "quote": "q"}], "k2": []}
        many = {f"key{i}": [i] for i in range(1200)}  # more than one IN (...) chunk
        state.store_answers(many, "m1")
        assert state.cached_answers(list(many)) == many
    finally:
        state.close()


def test_segment_snapshots_keep_the_latest_tier_and_any_signal_of_the_quarter(state_target):
    state = State.open(state_target)
    try:
        first = datetime(2026, 10, 5, tzinfo=UTC)
        later = datetime(2026, 11, 23, tzinfo=UTC)
        state.record_snapshots("2026-Q4", first, [
            {"account_id": "a1", "tier": 2, "arr": 90_000.0, "potential": "HIGH",
             "had_signal": True}])
        state.record_snapshots("2026-Q4", later, [
            {"account_id": "a1", "tier": 1, "arr": 300_000.0, "potential": "LOW",
             "had_signal": False},
            {"account_id": "a2", "tier": 4, "arr": 5_000.0, "potential": "LOW",
             "had_signal": False}])
        state.record_snapshots("2026-Q3", first, [
            {"account_id": "a1", "tier": 3, "arr": 40_000.0, "potential": "LOW",
             "had_signal": False}])
        # A backfill of an older week of Q4: its signal counts, its tier does not.
        state.record_snapshots("2026-Q4", datetime(2026, 10, 12, tzinfo=UTC), [
            {"account_id": "a2", "tier": 3, "arr": 23_456_789.0, "potential": "HIGH",
             "had_signal": True}])
        assert state.snapshots() == [
            {"quarter": "2026-Q3", "account_id": "a1", "as_of": "2026-10-05", "tier": 3,
             "arr": 40_000.0, "potential": "LOW", "had_signal": False},
            {"quarter": "2026-Q4", "account_id": "a1", "as_of": "2026-11-23", "tier": 1,
             "arr": 300_000.0, "potential": "LOW", "had_signal": True},
            {"quarter": "2026-Q4", "account_id": "a2", "as_of": "2026-11-23", "tier": 4,
             "arr": 5_000.0, "potential": "LOW", "had_signal": True}]
        state.record_snapshots("2026-Q2", first, [
            {"account_id": "big", "tier": 1, "arr": 23_456_789.0, "potential": "LOW",
             "had_signal": False}])
        assert state.snapshots()[0]["arr"] == 23_456_789.0  # not float4 on PostgreSQL
    finally:
        state.close()
