"""Time `esd backtest` over 8 weeks of a 10,000-account portfolio, and show where the
time goes: reading the data (once) against each week's pipeline run.

The weeks are built from bench_pipeline.py's one-week portfolio (one ~6,000-token call
per account per week, usage events, tickets): week k is that week moved k weeks back,
its records handed to the account 37·k places further on (so signals move between
accounts and CSMs from week to week) and its ids suffixed. They are written both as one
folder (`--input-dir`, as from `esd pull --window-days 56`) and as one folder per week
(`--snapshots`). Each backtest runs in a fresh process, which reports how many times it
read input files, how long that took and each week's pipeline time (wall and CPU: the
machine may be shared, and CPU seconds are not slowed by other processes); wall time,
CPU time and peak resident memory of the whole process are measured from outside.
`--dry-run` also times one `esd dry-run` over the one folder: what each of N separate
dry runs would pay.

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

# The child wraps the use case's steps to add their CPU time (the wall times come from
# the use case itself), and counts the calls that read input files.
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
folder, refs, as_of, out, weeks, state, mode = sys.argv[1:8]
one = mode == "folder"
settings = Settings(input_dir=Path(folder) if one else None, references=Path(refs),
                    as_of=parse_as_of(as_of))
done = app.backtest(settings, Path(out), weeks=int(weeks), state_target=state,
                    snapshots=None if one else Path(folder))
print(json.dumps({"load_s": done.load_s, "week_s": done.week_s, "loads": done.loads,
                  "cpu": cpu, "strong": done.backtest.totals()["strong"],
                  "aborted": done.backtest.totals()["weeks_aborted"]}))
"""


def weeks_data(n: int, weeks: int, weekly: bool) -> Path:
    """The cached weeks of `n` accounts, generated on first use: one folder, or with
    `weekly` one folder per week named by its as-of date."""
    target = DATA / f"backtest-{n}x{weeks}{'-weekly' if weekly else ''}"
    if target.is_dir():
        return target
    week = portfolio(n)
    staging = Path(tempfile.mkdtemp(dir=DATA))
    end = datetime.fromisoformat(AS_OF + "T00:00:00+00:00")
    folders = [staging / ((end - timedelta(weeks=k)).date().isoformat() if weekly else "")
               for k in range(weeks)]
    for folder in dict.fromkeys(folders):
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(week / "accounts.json", folder / "accounts.json")
    ids = [a["id"] for a in json.loads((week / "accounts.json").read_text())]
    for name, (when, key) in FILES.items():
        if not (week / name).is_file():
            continue
        records = json.loads((week / name).read_bytes())
        for folder in dict.fromkeys(folders):  # written record by record, never held twice
            with open(folder / name, "w", encoding="utf-8") as out:
                separator = "["
                for k in (k for k in range(weeks) if folders[k] == folder):
                    moved = _mover(ids, k)
                    for record in records:
                        copy = dict(record)
                        copy["account_id"] = moved(record["account_id"])
                        if record.get(when):
                            at = datetime.fromisoformat(record[when].replace("Z", "+00:00"))
                            copy[when] = (at - timedelta(weeks=k)).isoformat()
                        if key and record.get(key):
                            copy[key] = f"{record[key]}-w{k}"
                        out.write(separator + json.dumps(copy))
                        separator = ","
                out.write("]" if separator == "," else "[]")
        del records
    staging.rename(target)
    return target


def _mover(ids: list[str], k: int):
    index = {aid: i for i, aid in enumerate(ids)}
    return lambda aid: ids[(index[aid] + ROTATE * k) % len(ids)]


def run(argv: list[str]) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds, peak RSS (MiB) and stdout of one child process."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"failed: {' '.join(argv)}\n{proc.stderr.read().decode()}")
        out.seek(0)
        return (elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024,
                out.read().decode())


def backtest(folder: Path, weeks: int, mode: str) -> str:
    """One backtest in a fresh process, reported as a Markdown block."""
    size_mb = sum(p.stat().st_size for p in folder.rglob("*.json")) / 1e6
    with tempfile.TemporaryDirectory() as tmp:
        wall, cpu_total, rss, out = run([
            sys.executable, "-c", CHILD, str(folder), str(ROOT / "references"), AS_OF,
            f"{tmp}/backtest", str(weeks), f"{tmp}/no-state.db", mode])
    got = json.loads(out.strip().splitlines()[-1])
    cpu, week_s = got["cpu"], got["week_s"]
    lines = [f"### `--{'input-dir' if mode == 'folder' else 'snapshots'}`: {size_mb:,.0f} MB "
             f"of input", "",
             f"Whole process {wall:.1f} s wall, {cpu_total:.1f} s CPU, {rss:,.0f} MiB peak; "
             f"input files read {cpu['reads']} time(s); {got['strong']} strong listed, "
             f"{got['aborted']} weeks aborted.", "",
             "| step | wall | CPU |", "|---|---:|---:|",
             f"| read and validate the input files | {got['load_s']:.1f} s | "
             f"{cpu['load']:.1f} s |"]
    lines += [f"| week {k + 1} pipeline | {w:.1f} s | {c:.1f} s |"
              for k, (w, c) in enumerate(zip(week_s, cpu["weeks"], strict=True))]
    lines.append(f"| all {len(week_s)} weeks' pipeline | {sum(week_s):.1f} s | "
                 f"{sum(cpu['weeks']):.1f} s |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--mode", choices=("folder", "snapshots", "both"), default="both")
    parser.add_argument("--dry-run", action="store_true",
                        help="also time one esd dry-run over the one folder")
    args = parser.parse_args()
    print(f"## {args.accounts:,} accounts x {args.weeks} weeks\n", flush=True)
    for mode in ("folder", "snapshots"):
        if args.mode in (mode, "both"):
            data = weeks_data(args.accounts, args.weeks, weekly=mode == "snapshots")
            print(backtest(data, args.weeks, mode) + "\n", flush=True)
    if args.dry_run:
        folder = weeks_data(args.accounts, args.weeks, weekly=False)
        with tempfile.TemporaryDirectory() as tmp:
            wall, cpu, rss, _ = run([
                sys.executable, "-m", "esd.cli", "dry-run", "--input-dir", str(folder),
                "--references", str(ROOT / "references"), "--as-of", AS_OF, "--out",
                f"{tmp}/digests", "--quiet", "--extractor", "rules"])
        print(f"One `esd dry-run` over the one folder: {wall:.1f} s wall, {cpu:.1f} s CPU, "
              f"{rss:,.0f} MiB peak; {args.weeks} of them: ~{args.weeks * cpu:.0f} s CPU.")


if __name__ == "__main__":
    main()
