"""A demo state store: the Lumen demo's eight past weeks delivered, and what came of them.

    python examples/tools/make_demo_state.py --out demo-state.db
    esd report --state demo-state.db --as-of 2026-11-23 --out report

For each past week of examples/portfolio (windows ending 2026-09-28 ... 11-16, oldest
first) this runs esd's real weekly job, `esd.app.digest.run`, as `esd run` would on that
Monday: the rule extractor, the demo's reference files, the state store at `--out`, and
an in-memory Slack (no network, no token) that splits each digest with esd's own Slack
splitter, so every delivered strong signal is its own message, as in a real DM. Then it
records the outcomes of examples/portfolio/outcomes.csv (the `esd outcome --import`
format: signal_id,outcome,date,note) as imported ones.

outcomes.csv is generated, once, from the delivered signals (`--write-outcomes`, for
whoever changes the demo's data), so that `esd report --as-of 2026-11-23` has something
to say:
- about 30 % of the signals of the weeks up to 11-02 converted within 14 days, about
  15 % of all were noise, most of the rest had no conversation; the last two weeks are
  mostly still open (unknown), as they would be on that Monday;
- the trailing 30 days are healthy (25-40 %) overall, but the "audit log" trigger (the
  2026-10-20 release hid the audit-log page behind the enterprise gate, see
  make_past_weeks.py) is mostly noise, and so is the action-library row it gets: both
  come out below 20 % with enough signals (10+) for a verdict;
- the months are chosen on purpose: September converted below 20 %, October inside the
  healthy 25-40 %, so the report shows a month below the line but *not* the "below 20 %
  two months running" warning (it needs two consecutive complete months);
- one October signal converted only after 19 days: recorded, but no conversion within
  14 days.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import random
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

TOOLS = Path(__file__).resolve().parent
REPO = TOOLS.parent.parent
sys.path.insert(0, str(TOOLS))
if str(REPO) not in sys.path:
    sys.path.append(str(REPO))  # esd from this checkout when it is not installed

from make_past_weeks import DEMO, WEEK_ENDS  # noqa: E402

from esd.app.digest import run  # noqa: E402
from esd.app.settings import Extraction, Settings  # noqa: E402
from esd.delivery.slack import SlackDelivery  # noqa: E402
from esd.state import State  # noqa: E402
from esd.state.outcomes import DeliveredSignal, OutcomeRecord  # noqa: E402

OUTCOMES_CSV = DEMO / "outcomes.csv"
COLUMNS = ("signal_id", "outcome", "date", "note")
REPORT_AS_OF = date(2026, 11, 23)  # the demo's "today": outcomes are dated before it
CONVERSION_DAYS = 14
OUTCOME_SEED = 1123
NOISY_TRIGGER = "audit log"


# --- an in-memory Slack ----------------------------------------------------------------


@dataclass
class DemoSlack:
    """The Messenger of esd.delivery.ledger, in memory: DM channels derived from the
    email, esd's own splitter, message timestamps from the week's Monday morning."""

    posted: dict[str, list[tuple[str, dict, Any]]] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)  # HTTP requests: none

    def dm_channel(self, email: str) -> str:
        return "D" + hashlib.sha256(email.lower().encode()).hexdigest()[:10].upper()

    def split(self, markdown: str, signal_ids: Sequence[str] = ()) -> list[Any]:
        return SlackDelivery.split(markdown, signal_ids)

    def post_part(self, channel: str, message: Any, marker: dict, oldest: float) -> str:
        monday = datetime.fromisoformat(marker["week"]).replace(tzinfo=UTC)
        sent = len(self.posted.setdefault(channel, []))
        ts = f"{int((monday + timedelta(hours=13)).timestamp()) + sent}.{sent + 1:06d}"
        self.posted[channel].append((ts, marker, message))
        return ts

    def find_parts(self, channel: str, marker: dict, oldest: float) -> dict[int, str]:
        keys = ("week", "owner", "digest_sha", "gen")
        return {m["part"]: ts for ts, m, _ in self.posted.get(channel, [])
                if all(m.get(k) == marker.get(k) for k in keys)}

    def read_reactions(self, channel: str, oldest: float, email: str) -> dict[str, str]:
        return {}  # nobody reacts in the demo: its outcomes come from outcomes.csv


# --- the store ----------------------------------------------------------------------------


def deliver_weeks(state: State, input_dir: Path = DEMO) -> DemoSlack:
    """Run the weekly job for every past week, oldest first, as `esd run` would."""
    slack = DemoSlack()
    with tempfile.TemporaryDirectory(prefix="esd-demo-fallback-") as fallback:
        for end in WEEK_ENDS:
            settings = Settings(input_dir=input_dir, references=input_dir / "references",
                                as_of=end, env={}, toml={},
                                extraction=Extraction(extractor="rules"))
            result = run(settings, state, slack, Path(fallback))
            if result.exit_code:
                raise SystemExit(f"week ending {end.date()}: {result.error}")
    return slack


def read_outcomes_csv(path: Path = OUTCOMES_CSV) -> list[OutcomeRecord]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [OutcomeRecord(r["signal_id"], r["outcome"], date.fromisoformat(r["date"]),
                          "import", r["note"] or None) for r in rows]


def build(out: Path, input_dir: Path = DEMO, outcomes: Path | None = OUTCOMES_CSV
          ) -> tuple[State, DemoSlack]:
    """The demo store at `out` (a new SQLite file), open, and the DMs it sent; outcomes
    recorded unless `outcomes` is None. Every outcome must name a delivered signal."""
    state = State.open(str(out))
    if not state.db.postgres:  # a demo needs no crash safety: skip a disk sync per write
        state.db.connection.execute("PRAGMA synchronous=OFF")
        state.db.connection.execute("PRAGMA journal_mode=MEMORY")
    try:
        slack = deliver_weeks(state, input_dir)
        if outcomes is not None:
            records = read_outcomes_csv(outcomes)
            delivered = {s.signal_id for s in state.delivered_signals()}
            orphans = sorted({r.signal_id for r in records} - delivered)
            if orphans:
                raise SystemExit(f"{outcomes}: {len(orphans)} outcome(s) for signals the demo "
                                 f"never delivered, e.g. {orphans[0]}: regenerate it with "
                                 "--write-outcomes")
            state.record_outcomes(records)
    except BaseException:
        state.close()
        raise
    return state, slack


# --- outcomes.csv -------------------------------------------------------------------------
#
# Per week (window end): the share of its delivered signals that converted within 14
# days, that were marked noise, and that are still open; the rest had no conversation.
# The "audit log" signals are mostly noise whatever the week.
MIX = {
    "2026-09-28": (0.12, 0.10, 0.12),
    "2026-10-05": (0.33, 0.00, 0.10),
    "2026-10-12": (0.30, 0.10, 0.05),
    "2026-10-19": (0.29, 0.07, 0.05),
    "2026-10-26": (0.36, 0.00, 0.10),
    "2026-11-02": (0.38, 0.00, 0.08),
    "2026-11-09": (0.23, 0.00, 0.60),
    "2026-11-16": (0.10, 0.00, 0.75),
}
LATE_WEEK = "2026-10-05"  # one conversion there came after 19 days
NOTES = {
    "converted": {
        "enterprise-tier": ["Security review call booked with their IT director",
                            "Enterprise-tier quote requested after the SSO walkthrough",
                            "Opportunity opened: compliance package"],
        "additional-team-seats": ["Seat expansion call held; order form drafted",
                                  "New team onboarding booked, quote for the seats sent",
                                  "Opportunity opened for the extra seats"],
        "premium-feature-pack": ["Premium-pack walkthrough held with the analysts",
                                 "Opportunity opened: premium pack trial",
                                 "API limits conversation with their tech lead"],
        "ai-assistant": ["AI assistant demo held; trial started",
                         "Their VP asked for AI assistant pricing on the call"],
    },
    "noise": ["Looking for the audit-log page after the October release; no buying intent",
              "Admin navigation question, not an upgrade",
              "Asked on behalf of a sister company with its own contract",
              "Usage spike was a one-off data backfill"],
    "no-conversation": ["No reply after two follow-ups", "Champion on leave, revisit in Q1",
                        "Budget frozen until the new fiscal year", ""],
}


def plan_outcomes(delivered: Sequence[DeliveredSignal]
                  ) -> tuple[list[dict[str, str]], set[str]]:
    """The rows of outcomes.csv (by date, then id) and the ids left without an outcome,
    from the delivered signals; deterministic."""
    rng = random.Random(OUTCOME_SEED)
    by_week: dict[str, list[DeliveredSignal]] = {}
    for signal in sorted(delivered, key=lambda s: (s.delivered_on, s.owner_email,
                                                   s.signal_id)):
        by_week.setdefault(signal.delivered_on.isoformat(), []).append(signal)
    rows: list[dict[str, str]] = []
    unknown: set[str] = set()
    for week, signals in by_week.items():
        converted, noise, still_open = MIX[week]
        sent = date.fromisoformat(week)
        noisy = [s for s in signals if NOISY_TRIGGER in s.triggers]
        rest = [s for s in signals if s not in noisy]
        rng.shuffle(rest)
        fate: dict[str, str] = {}
        for s in noisy:  # mostly noise; now and then it was a real compliance need
            fate[s.signal_id] = rng.choices(("noise", "no-conversation", "converted"),
                                            (8, 1, 1))[0]
        n = len(signals)
        quotas = [("converted", round(converted * n)
                   - sum(f == "converted" for f in fate.values())),
                  ("noise", round(noise * n)), ("unknown", round(still_open * n))]
        queue = list(rest)
        for outcome, count in quotas:
            for _ in range(max(0, count)):
                if queue:
                    fate[queue.pop(0).signal_id] = outcome
        for s in queue:
            fate[s.signal_id] = "no-conversation"
        late = week == LATE_WEEK
        for s in signals:
            outcome = fate[s.signal_id]
            if outcome == "no-conversation" and late:
                outcome, late = "late", False
            if outcome == "unknown":
                unknown.add(s.signal_id)
                continue
            day, note = outcome_day(rng, sent, outcome), outcome_note(rng, s, outcome)
            if outcome == "late":
                outcome = "converted"
            if day >= REPORT_AS_OF:  # not yet known on the demo's Monday
                unknown.add(s.signal_id)
                continue
            rows.append({"signal_id": s.signal_id, "outcome": outcome,
                         "date": day.isoformat(), "note": note})
    rows.sort(key=lambda r: (r["date"], r["signal_id"]))
    return rows, unknown


def outcome_day(rng: random.Random, sent: date, outcome: str) -> date:
    known = (REPORT_AS_OF - sent).days - 1  # the last day before the demo's Monday
    if outcome == "converted":
        return sent + timedelta(days=rng.randint(2, min(CONVERSION_DAYS - 1, known)))
    if outcome == "noise":  # a CSM says so within the week
        return sent + timedelta(days=rng.randint(1, min(5, known)))
    if outcome == "late":
        return sent + timedelta(days=19)
    return sent + timedelta(days=CONVERSION_DAYS + rng.randint(0, 4))  # no-conversation


def outcome_note(rng: random.Random, signal: DeliveredSignal, outcome: str) -> str:
    if outcome == "late":
        return "Conversation held in week three, after the 14-day window"
    if outcome == "converted":
        return rng.choice(NOTES["converted"][signal.sku])
    if outcome == "noise":
        notes = NOTES["noise"]
        return notes[rng.randrange(2)] if NOISY_TRIGGER in signal.triggers \
            else notes[2 + rng.randrange(2)]
    return rng.choice(NOTES["no-conversation"])


def render_csv(rows: Sequence[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_outcomes(path: Path = OUTCOMES_CSV, input_dir: Path = DEMO) -> tuple[int, int]:
    """Regenerate outcomes.csv from what the demo's weeks deliver; (rows, unknown)."""
    with tempfile.TemporaryDirectory(prefix="esd-demo-state-") as folder:
        state, _ = build(Path(folder) / "state.db", input_dir, outcomes=None)
        try:
            rows, unknown = plan_outcomes(state.delivered_signals())
        finally:
            state.close()
    path.write_text(render_csv(rows), encoding="utf-8")
    return len(rows), len(unknown)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("demo-state.db"),
                        help="the SQLite state store to create (default: demo-state.db)")
    parser.add_argument("--force", action="store_true",
                        help="replace --out if it exists")
    parser.add_argument("--no-outcomes", action="store_true",
                        help="deliver the weeks only (then try `esd outcome --import "
                             "examples/portfolio/outcomes.csv --state ...` yourself)")
    parser.add_argument("--write-outcomes", action="store_true",
                        help=f"regenerate {OUTCOMES_CSV.relative_to(REPO)} from the "
                             "delivered signals instead (after changing the demo's data)")
    args = parser.parse_args(argv)
    if args.write_outcomes:
        rows, unknown = write_outcomes()
        print(f"wrote {OUTCOMES_CSV}: {rows} outcomes, {unknown} signals still open")
        return
    if args.out.exists():
        if not args.force:
            raise SystemExit(f"{args.out} exists: pass --force to replace it")
        args.out.unlink()
    state, _ = build(args.out, outcomes=None if args.no_outcomes else OUTCOMES_CSV)
    try:
        delivered = state.delivered_signals()
        outcomes = state.outcomes()
    finally:
        state.close()
    print(f"wrote {args.out}: {len(WEEK_ENDS)} weeks delivered "
          f"({WEEK_ENDS[0].date()} .. {WEEK_ENDS[-1].date()}), {len(delivered)} strong "
          f"signals, {len(outcomes)} outcomes recorded\nnext: "
          + (f"esd outcome --import {OUTCOMES_CSV.relative_to(REPO)} --state {args.out}\n"
             "      " if args.no_outcomes else "")
          + f"esd report --state {args.out} --as-of 2026-11-23 --out report")


if __name__ == "__main__":
    main()
