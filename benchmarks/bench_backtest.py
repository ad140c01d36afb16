"""Time `esd backtest` over 8 weeks of a 10,000-account portfolio, and show where the
time goes: reading the data (once) against each week's pipeline run.

The 8-week folder is built from bench_pipeline.py's one-week portfolio (one ~6,000-token
call per account per week, usage events, tickets): week k is that week moved k weeks
back, its records handed to the account 37·k places further on (so signals move
between accounts and CSMs from week to week) and its ids suffixed. The backtest runs in
a fresh process, which reports how long reading the data took, how many times it was
read, and each week's pipeline time; wall time and peak resident memory are measured
from outside. The comparison is what N separate dry runs over the same folder would
cost: each reads the whole folder again (`--dry-run` measures one of them).

    python benchmarks/bench_backtest.py                    # 10,000 accounts x 8 weeks
    python benchmarks/bench_backtest.py --accounts 1000 --weeks 4 --dry-run

Generated folders are cached in benchmarks/.data/ (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from bench_pipeline import AS_OF, DATA, ROOT, portfolio  # this folder is sys.path[0]

ROTATE = 37  # week k's records belong to the account 37*k places further on
FILES = {"calls.json": ("occurred_at", "call_id"), "usage_events.json": ("occurred_at",
                                                                         "event_id"),
         "support_tickets.json": ("opened_at", "ticket_id"),
         "stakeholder_changes.json": ("occurred_at", None)}

# The child wraps the use case's two steps to add their CPU time (the wall times come
# from the use case itself): the machine may be shared, and CPU seconds are not slowed
# by another process. It also counts the calls that read input files.
CHILD = r"""
import json, sys, time
from pathlib import Path
import esd.app.backtest as app
from esd.app.settings import Settings, parse_as_of
cpu = {"load": 0.0, "weeks": [], "reads": 0}
def timed(fn, into):
    def wrapper(*args, **kwargs):
        started = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            spent = time.process_time() - started
            if into == "weeks":
                cpu["weeks"].append(spent)
            else:
                cpu["load"] += spent
                cpu["reads"] += 1
    return wrapper
app.load_inputs = timed(app.load_inputs, "load")
app.load_portfolio = timed(app.load_portfolio, "load")
app.run_week = timed(app.run_week, "weeks")
folder, refs, as_of, out, weeks, state = sys.argv[1:7]
settings = Settings(input_dir=Path(folder), references=Path(refs), as_of=parse_as_of(as_of))
done = app.backtest(settings, Path(out), weeks=int(weeks), state_target=state)
print(json.dumps({"load_s": done.load_s, "week_s": done.week_s, "loads": done.loads,
                  "cpu": cpu, "strong": done.backtest.totals()["strong"],
                  "aborted": done.backtest.totals()["weeks_aborted"]}))
"""


def weeks_folder(n: int, weeks: int) -> Path:
    """The cached folder of `weeks` weeks of `n` accounts, generated on first use."""
    target = DATA / f"backtest-{n}x{weeks}"
    if (target / "accounts.json").is_file():
        return target
    week = portfolio(n)
    staging = Path(tempfile.mkdtemp(dir=DATA))
    shutil.copy(week / "accounts.json", staging / "accounts.json")
    ids = [a["id"] for a in json.loads((week / "accounts.json").read_text())]
    for name, (when, key) in FILES.items():
        if not (week / name).is_file():
            continue
        records = json.loads((week / name).read_bytes())
        with open(staging / name, "w", encoding="utf-8") as out:
            out.write("[")
            first = True
            for k in range(weeks):
                moved = _mover(ids, k)
                for record in records:
                    copy = dict(record)
                    copy["account_id"] = moved(record["account_id"])
                    if record.get(when):
                        at = datetime.fromisoformat(record[when].replace("Z", "+00:00"))
                        copy[when] = (at - timedelta(weeks=k)).isoformat()
                    if key and record.get(key):
                        copy[key] = f"{record[key]}-w{k}"
                    out.write(("" if first else ",") + json.dumps(copy))
                    first = False
            out.write("]")
        del records
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def _mover(ids: list[str], k: int):
    index = {aid: i for i, aid in enumerate(ids)}
    return lambda aid: ids[(index[aid] + ROTATE * k) % len(ids)]


def run(argv: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) and stdout of one child process."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"failed: {' '.join(argv)}\n{proc.stderr.read().decode()}")
        out.seek(0)
        return elapsed, usage.ru_maxrss / 1024, out.read().decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--dry-run", action="store_true",
                        help="also time one esd dry-run over the whole folder")
    args = parser.parse_args()
    folder = weeks_folder(args.accounts, args.weeks)
    size_mb = sum(p.stat().st_size for p in folder.glob("*.json")) / 1e6
    refs = str(ROOT / "references")
    with tempfile.TemporaryDirectory() as tmp:
        wall, rss, out = run([sys.executable, "-c", CHILD, str(folder), refs, AS_OF,
                              f"{tmp}/backtest", str(args.weeks), f"{tmp}/no-state.db"])
        got = json.loads(out.strip().splitlines()[-1])
        dry = None
        if args.dry_run:
            dry = run([sys.executable, "-m", "esd.cli", "dry-run", "--input-dir",
                       str(folder), "--references", refs, "--as-of", AS_OF, "--out",
                       f"{tmp}/digests", "--quiet", "--extractor", "rules"])
    weeks, cpu = got["week_s"], got["cpu"]
    print(f"{args.accounts:,} accounts x {args.weeks} weeks, {size_mb:,.0f} MB of input")
    print(f"esd backtest: {wall:.1f} s wall, {rss:,.0f} MiB peak; input files read "
          f"{cpu['reads']} time(s), in {got['load_s']:.1f} s ({cpu['load']:.1f} s CPU); "
          f"pipeline {sum(weeks):.1f} s ({sum(cpu['weeks']):.1f} s CPU) over {len(weeks)} "
          f"weeks; {got['strong']} strong listed, {got['aborted']} weeks aborted")
    print("\n| step | wall | CPU |\n|---|---:|---:|")
    print(f"| read and validate the {size_mb:,.0f} MB folder (once) | {got['load_s']:.1f} s "
          f"| {cpu['load']:.1f} s |")
    for k, (seconds, spent) in enumerate(zip(weeks, cpu["weeks"], strict=True)):
        print(f"| week {k + 1} pipeline | {seconds:.1f} s | {spent:.1f} s |")
    print(f"| whole process (start-up, writing the report) | {wall:.1f} s | |")
    if dry is not None:
        print(f"\nOne esd dry-run over the same folder: {dry[0]:.1f} s, {dry[1]:,.0f} MiB peak; "
              f"{args.weeks} of them: ~{args.weeks * dry[0]:.0f} s.")


if __name__ == "__main__":
    main()
