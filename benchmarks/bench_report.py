"""Time `esd report` on a synthetic SQLite state: 10,000 accounts over 8 weekly runs.

Two shapes of state, both filled through the State API as esd run and esd outcome fill
it (record_run, record_part with each signal's id, record_outcomes):
- capped: 200 CSMs of 50 accounts, each listing the seed's cap of 3 strong signals a
  week (600 a week, 4,800 in all): what a 10,000-account team's store really holds;
- every account: one delivered strong signal per account per week (80,000 in all), an
  upper bound no capped run reaches.
About 30 % of signals are confirmed, 10 % marked noise, 5 % no-conversation, one in ten
of those recorded twice (the latest wins). Every measurement runs `esd report` in a
fresh process (interpreter start-up included) and reports wall time and peak resident
memory, next to the start-up floor (`esd report --help`: interpreter, imports, Typer);
an in-process pass splits the rest into reading the state, measuring and rendering.

    python benchmarks/bench_report.py               # both shapes
    python benchmarks/bench_report.py --shapes capped --runs 5

States are cached in benchmarks/.data/ (git-ignored).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / ".data"
AS_OF = datetime(2026, 11, 23, tzinfo=UTC)
ACCOUNTS, WEEKS, PER_CSM = 10_000, 8, 50
SKUS = ["enterprise-tier", "additional-team-seats", "premium-feature-pack", "api-add-on",
        "analytics-pack"]
PHRASES = [f"trigger phrase {i}" for i in range(40)]
ROWS = [f"Action row {i}: send the named checklist to the admin" for i in range(12)] + [None]
SHAPES = {"capped": 3, "every-account": PER_CSM}  # signals per CSM per week


def build_state(shape: str) -> Path:
    """The cached state of `shape`, generated on first use."""
    path = DATA / f"report-state-{shape}.db"
    if path.is_file():
        return path
    from esd.models import Diagnostics, Digest, Mention, RunResult, Signal, signal_id
    from esd.state import OutcomeRecord, State

    DATA.mkdir(parents=True, exist_ok=True)
    staging = path.with_suffix(".tmp")
    staging.unlink(missing_ok=True)
    rnd, per = random.Random(7), SHAPES[shape]
    state = State.open(str(staging))
    state.db.execute("PRAGMA synchronous = OFF")  # generation only; esd never does this
    records: list[OutcomeRecord] = []
    for w in range(WEEKS - 1, -1, -1):
        as_of = AS_OF - timedelta(days=7 * w)
        digests = []
        for c in range(ACCOUNTS // PER_CSM):
            owner = f"csm{c:03d}@example.com"
            strong = []
            for k in rnd.sample(range(PER_CSM), per):
                account, sku = f"acct-{c * PER_CSM + k:05d}", rnd.choice(SKUS)
                evidence = [Mention(account_id=account, sku=sku, source="call",
                                    source_id=f"call-{account}-{w}", quote="...", trigger=t,
                                    occurred_at=as_of)
                            for t in rnd.sample(PHRASES, rnd.choice((1, 1, 2, 3)))]
                strong.append(Signal(account_id=account, sku=sku, strength="strong",
                                     call_evidence=evidence, action_row=rnd.choice(ROWS),
                                     signal_id=signal_id(as_of, owner, account, sku)))
            digests.append(Digest(owner_email=owner, csm_name=owner, strong=strong, weak=[],
                                  overflow=0, accounts_owned=PER_CSM))
        state.record_run(RunResult(
            as_of=as_of, window_days=7, coverage_pct=80.0, diagnostics=Diagnostics(
                accounts_in_scope=ACCOUNTS, accounts_silent=0, negative_matches=0,
                champion_suppressions=0, taxonomy_hash="bench00"),
            digests=digests, not_signal=[], accounts={}), {})
        for digest in digests:
            for part, signal in enumerate(digest.strong, start=2):
                state.record_part(as_of, digest.owner_email, part, len(digest.strong) + 1,
                                  "sent", f"{w}.{part}", signal.signal_id)
                records += outcomes(rnd, signal.signal_id, as_of)
    state.record_outcomes(records)
    state.close()
    staging.rename(path)
    return path


def outcomes(rnd: random.Random, sid: str, delivered: datetime) -> list:
    from esd.state import OutcomeRecord

    roll = rnd.random()
    outcome = ("converted" if roll < 0.30 else "noise" if roll < 0.40
               else "no-conversation" if roll < 0.45 else None)
    if outcome is None:
        return []
    on = delivered.date() + timedelta(days=rnd.choice((0, 7, 7, 14, 21)))
    first = OutcomeRecord(sid, outcome, on, "reaction")
    if rnd.random() < 0.1:  # changed their mind: the latest record wins
        return [OutcomeRecord(sid, "noise", on, "reaction"), first]
    return [first]


def measure(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(argv)}\n{proc.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss / 1024


def stages(path: Path) -> tuple[dict[str, float], int, int]:
    """Seconds per stage in this process, the delivered signals and report.html's bytes."""
    from esd.outcomes.metrics import measure as measure_signals
    from esd.render.report import dumps, render_markdown
    from esd.render.report_html import render_html
    from esd.state import State

    times, t0 = {}, time.perf_counter()
    state = State.open(str(path), create=False)
    signals, records = state.delivered_signals(), state.outcomes()
    state.close()
    times["read"], t0 = time.perf_counter() - t0, time.perf_counter()
    result = measure_signals(signals, records, AS_OF)
    times["measure"], t0 = time.perf_counter() - t0, time.perf_counter()
    render_markdown(result), dumps(result)
    page = render_html(result)
    times["render"] = time.perf_counter() - t0
    return times, len(signals), len(page.encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shapes", default="capped,every-account")
    parser.add_argument("--runs", type=int, default=3, help="best of N")
    args = parser.parse_args()
    esd = [sys.executable, "-m", "esd.cli"]
    floor = min(measure([*esd, "report", "--help"])[0] for _ in range(args.runs))
    print(f"start-up floor (esd report --help): {floor:.2f} s", flush=True)
    rows = []
    for shape in args.shapes.split(","):
        path = build_state(shape)
        with tempfile.TemporaryDirectory() as out:
            results = [measure([*esd, "report", "--state", str(path), "--as-of",
                                AS_OF.date().isoformat(), "--out", f"{out}/report",
                                "--quiet"]) for _ in range(args.runs)]
        wall, rss = min(r[0] for r in results), max(r[1] for r in results)
        times, delivered, html_bytes = stages(path)
        mb = path.stat().st_size / 1e6
        rows.append((shape, delivered, mb, wall, rss, times, html_bytes))
        print(f"{shape:>14}: {delivered:,} signals, {mb:.1f} MB state: esd report "
              f"{wall:.2f} s, {rss:.0f} MiB peak | read {times['read']:.2f} s, measure "
              f"{times['measure']:.2f} s, render {times['render']:.2f} s | report.html "
              f"{html_bytes / 1000:.0f} kB", flush=True)
    print("\n| state | delivered signals | state file | `esd report` | start-up floor | "
          "peak memory | read | measure | render | report.html |\n"
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for shape, delivered, mb, wall, rss, t, size in rows:
        print(f"| {shape} | {delivered:,} | {mb:.1f} MB | {wall:.2f} s | {floor:.2f} s | "
              f"{rss:,.0f} MiB | {t['read']:.2f} s | {t['measure']:.2f} s | "
              f"{t['render']:.2f} s | {size / 1000:.0f} kB |")


if __name__ == "__main__":
    main()
