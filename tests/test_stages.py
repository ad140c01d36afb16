"""Stages 1, 2, 4, 5, 6 and the guards, each as a pure function (contract §5, §6)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from builders import account, departure, event

from esd.errors import CoverageAbort
from esd.models import Account, Mention, Portfolio, Signal, StakeholderChange, UsageEvent, csm_name
from esd.pipeline import guards, make_window
from esd.pipeline.act import NEEDS_REVIEW, action_for, choose_row
from esd.pipeline.baseline import filter_usage
from esd.pipeline.classify import champion_departures, classify
from esd.pipeline.collect import collect
from esd.pipeline.extract import Evidence
from esd.pipeline.route import route
from esd.references.actions import is_vague
from esd.references.schema import ActionLibrary, ActionRow, ActionSection

AS_OF = datetime(2026, 11, 23, tzinfo=UTC)
WHEN = datetime(2026, 11, 18, tzinfo=UTC)


def acct(id="a1", **kw) -> Account:
    return Account.model_validate(account(id, **kw), strict=False)


def usage(delta, metric="seat_count", event_type="seat_count_spike", **kw) -> UsageEvent:
    return UsageEvent.model_validate(event("a1", event_type, metric, delta, **kw), strict=False)


def mention(account_id="a1", sku="s", source="call", label="signal", quote="q") -> Mention:
    return Mention(account_id=account_id, sku=sku, source=source, source_id="c1", quote=quote,
                   trigger="t", occurred_at=WHEN, label=label)


# --- collect -------------------------------------------------------------------------


def test_window_is_half_open_and_silent_accounts_are_counted():
    window = make_window(AS_OF, 7)
    inside = usage(50.0, occurred_at="2026-11-16T00:00:00Z")
    at_end = usage(50.0, occurred_at="2026-11-23T00:00:00Z")
    portfolio = Portfolio(accounts=[acct("a1"), acct("a2")], calls=[], tickets=[],
                          usage_events=[inside, at_end])
    collected = collect(portfolio, window)
    assert collected.usage == [inside]
    assert collected.silent == ["a2"]
    assert collected.coverage_pct == 0.0


# --- baseline ------------------------------------------------------------------------


@pytest.mark.parametrize("segment, delta, counted", [
    ("enterprise", 3.5, False),   # exactly the upper edge (0.5 + 3): inside
    ("enterprise", 3.6, True),
    ("smb", 29.9, False),         # 5 + 25
    ("smb", 30.1, True),
    ("enterprise", -40.0, False),  # drops never count
])
def test_only_events_above_the_band_count(refs, segment, delta, counted):
    result = filter_usage([usage(delta)], {"a1": acct(segment=segment)}, refs.baselines)
    assert bool(result.counted) is counted


def test_null_delta_never_counts_and_missing_rows_are_kept(refs):
    null, unknown_metric, unknown_segment = (
        usage(None), usage(12.0, metric="department_active_users"), usage(1.0))
    accounts = {"a1": acct(segment="enterprise")}
    result = filter_usage([null, unknown_metric], accounts, refs.baselines)
    assert result.null_delta == [null] and result.counted == [unknown_metric]
    assert result.no_baseline == [unknown_metric]
    other = filter_usage([unknown_segment], {"a1": acct(segment="public-sector")},
                         refs.baselines)
    assert other.counted == [unknown_segment] and other.no_baseline == [unknown_segment]


# --- classify ------------------------------------------------------------------------


def test_strong_needs_call_and_usage_on_the_same_sku():
    ev = Evidence(
        mentions=[mention(sku="a"), mention(sku="b"), mention(sku="c", label="not_signal"),
                  mention(sku="d", source="ticket")],
        usage_hits=[("a", usage(50.0)), ("c", usage(50.0))],
        ticket_hits=[mention(sku="b", source="ticket")],
    )
    got = {(s.sku, s.strength, s.reason) for s in classify(ev, set())}
    assert got == {("a", "strong", None), ("b", "weak", "call-and-ticket"),
                   ("c", "weak", "usage-only"), ("d", "weak", "ticket-only")}


def test_champion_departure_inside_lookback_downgrades_strong():
    ev = Evidence(mentions=[mention(sku="a")], usage_hits=[("a", usage(50.0))])
    [signal] = classify(ev, {"a1"})
    assert (signal.strength, signal.reason, signal.tags) == (
        "weak", "champion-departure", ["champion-departure"])


@pytest.mark.parametrize("when, champion, departed", [
    ("2026-10-24T00:00:00Z", True, True),    # first instant of the 30-day look-back
    ("2026-10-23T23:59:59Z", True, False),
    ("2026-11-22T12:00:00Z", False, False),  # not the champion
    ("2026-11-23T00:00:00Z", True, False),   # as_of itself is outside
])
def test_champion_lookback_edges(when, champion, departed):
    change = StakeholderChange.model_validate(departure("a1", when, champion), strict=False)
    assert (champion_departures([change], AS_OF) == {"a1"}) is departed


# --- route ---------------------------------------------------------------------------


def strong(account_id, sku="s") -> Signal:
    return Signal(account_id=account_id, sku=sku, strength="strong")


def test_rank_by_arr_then_renewal_then_id_and_cap_counts_signals():
    accounts = {a.id: a for a in [
        acct("a1", arr=100.0, renewal_date="2027-05-01"),
        acct("a2", arr=100.0, renewal_date="2027-01-01"),
        acct("a3", arr=900.0),
        acct("a4", arr=50.0, owner_email="ben@x.example", owner_name="Ben O."),
    ]}
    signals = [strong("a1"), strong("a2"), strong("a3", "y"), strong("a3", "x"),
               Signal(account_id="a4", sku="s", strength="weak", reason="call-only")]
    ana, ben = route(signals, accounts, cap_per_csm=3)
    assert [(s.account_id, s.sku) for s in ana.strong] == [("a3", "x"), ("a3", "y"), ("a2", "s")]
    assert ana.overflow == 1 and ana.strong_total == 4 and ana.weak == []
    assert ana.csm_name == "Ana Ruiz"  # derived from ana.ruiz@...
    assert (ben.csm_name, ben.strong, len(ben.weak), ben.overflow) == ("Ben O.", [], 1, 0)


def test_csm_name_from_email():
    assert csm_name("chloe_van-dyke+cs@x.example", []) == "Chloe Van Dyke"


# --- act -----------------------------------------------------------------------------


def library(rows, denylist=("follow up", "reach out")) -> ActionLibrary:
    return ActionLibrary(path="a.md", denylist=list(denylist), sections={
        "s": ActionSection(sku="s", line=1, rows=[
            ActionRow(trigger_pattern=p, action=a, line=i) for i, (p, a) in enumerate(rows)])})


def test_row_sharing_most_words_with_evidence_wins_and_ties_go_first():
    lib = library([("Seat count spike + pricing call", "Book the pricing call."),
                   ("Call mention of SSO + tier-gated attempt", "Send the SSO checklist."),
                   ("SSO attempt", "Send the other SSO doc.")])
    sso = Signal(account_id="a1", sku="s", strength="strong",
                 call_evidence=[mention(quote="Do you support SSO?")],
                 usage_evidence=[usage(100.0, metric="tier_gated_feature_attempts",
                                       event_type="tier_gated_feature_attempt")])
    assert action_for(sso, lib) == "Send the SSO checklist."
    nothing = Signal(account_id="a1", sku="s", strength="strong")
    assert choose_row(nothing, lib.sections["s"].rows).line == 0  # all tie at 0: first row


def test_needs_human_review_without_row_or_with_vague_action():
    assert action_for(Signal(account_id="a1", sku="other", strength="strong"),
                      library([("x", "Send the deck.")])) == NEEDS_REVIEW
    vague = library([("x", "Reach out about the expansion opportunity.")])
    assert action_for(Signal(account_id="a1", sku="s", strength="strong"), vague) == NEEDS_REVIEW
    assert not is_vague("Reach out to the admin with the SSO checklist.", ["reach out"])
    assert is_vague("Please FOLLOW UP soon.", ["follow up"])


# --- guards --------------------------------------------------------------------------


def test_coverage_thresholds():
    assert guards.coverage_warning(60.0) is None
    assert "59.9% of accounts" in guards.coverage_warning(59.9)
    guards.enforce_coverage(40.0, 10)
    with pytest.raises(CoverageAbort):
        guards.enforce_coverage(39.9, 10)


def test_staleness_uses_the_later_of_date_and_commit(refs):
    tax = refs.taxonomy.model_copy(update={"last_edited": date(2026, 1, 1), "last_commit": None})
    assert guards.staleness_warning(tax, AS_OF, "t.md").startswith(
        "_Taxonomy last edited 90+ days ago.")
    fresh = tax.model_copy(update={"last_commit": datetime(2026, 9, 1, tzinfo=UTC)})
    assert guards.staleness_warning(fresh, AS_OF, "t.md") is None
    edge = tax.model_copy(update={"last_edited": date(2026, 8, 25)})  # exactly 90 days
    assert guards.staleness_warning(edge, AS_OF, "t.md") is not None
    undated = tax.model_copy(update={"last_edited": None})
    assert "never dated" in guards.staleness_warning(undated, AS_OF, "t.md")


def test_flooding_fires_on_the_third_consecutive_over_cap_run():
    assert guards.flood_warning([], 5, 3) is None
    assert guards.flood_warning([5], 5, 3) is None
    assert guards.flood_warning([9, 2, 5], 5, 3) is None  # the run before last was under
    warning = guards.flood_warning([4, 5], 6, 3)
    assert "last 3 runs averaged 5.0 per week" in warning
    assert "Consider tightening the strong-vs-weak cutoff" in warning


def test_last_commit_date_comes_from_git(tmp_path):
    import subprocess

    from esd.references import last_commit

    path = tmp_path / "1-expansion-signal-taxonomy.md"
    path.write_text("x")
    assert last_commit(path) is None  # not a repository
    env = {"GIT_AUTHOR_DATE": "2026-03-01T12:00:00+00:00",
           "GIT_COMMITTER_DATE": "2026-03-01T12:00:00+00:00", "PATH": "/usr/bin:/bin",
           "HOME": str(tmp_path)}
    for args in (["init", "-q"], ["add", path.name],
                 ["-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qm", "m"]):
        subprocess.run(["git", *args], cwd=tmp_path, env=env, check=True)
    assert last_commit(path) == datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_run_pipeline_flood_warning_from_history_and_hash(refs):
    from builders import call

    from esd.models import Call
    from esd.pipeline import run_pipeline

    accounts = [acct(f"a{i}", arr=1000.0 * i) for i in range(1, 6)]
    calls = [Call.model_validate(call(a.id, f"c{a.id}", [("Dana Lee", "Do you support SSO?")]),
                                 strict=False) for a in accounts]
    events = [UsageEvent.model_validate(event(a.id, "tier_gated_feature_attempt",
                                              "tier_gated_feature_attempts", 100.0,
                                              feature="sso"), strict=False) for a in accounts]
    portfolio = Portfolio(accounts=accounts, calls=calls, usage_events=events, tickets=[],
                          stakeholder_changes=[])
    history = {"ana.ruiz@lumen.example.com": [4, 6]}
    result = run_pipeline(portfolio, refs, as_of=AS_OF, cap_per_csm=3, history=history)
    [digest] = result.digests
    assert digest.overflow == 2 and digest.strong_total == 5
    assert digest.warnings[0].startswith(
        "_Strong-signal threshold may be too loose — last 3 runs averaged 5.0 per week.")
    import hashlib

    raw = (refs.directory / "1-expansion-signal-taxonomy.md").read_bytes()
    assert result.diagnostics.taxonomy_hash == hashlib.sha256(raw).hexdigest()[:7]
    no_history = run_pipeline(portfolio, refs, as_of=AS_OF, cap_per_csm=3)
    assert no_history.digests[0].warnings == []
