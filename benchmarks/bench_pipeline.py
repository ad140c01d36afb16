"""Time `esd dry-run` (or `esd segment`, `esd backtest`) end to end against the floor.

Each account gets one ~6,000-token (~4,500-word) call transcript per week, as the
seed's cost section assumes, plus usage events and tickets, from one of two generators
(benchmarks/bench_data.py): `demo` (the demo generator's background portfolio) and
`dense` (ordinary small talk whose common words are a trigger's anchors). Every
measurement runs in a fresh process (interpreter start-up included) and reports wall
time, CPU time (user + system: the machine may be shared, and CPU seconds are not
slowed by other processes) and peak resident memory. The *floor* is the least any
implementation must do: load the same files (`.json` whole, `.jsonl` a line at a time)
and make one pass of one compiled regex over every transcript; the ratios say how far
above that floor the whole command runs, measured in the same session. Runs of the
floor and of each `--tree` (a checkout of esd, e.g. main beside a branch) interleave,
best of `--runs`.

    python benchmarks/bench_pipeline.py                           # demo, 200 1000 10000
    python benchmarks/bench_pipeline.py --data dense --sizes 1000,10000,30000
    python benchmarks/bench_pipeline.py --data dense --sizes 100000 --form jsonl --runs 1
    python benchmarks/bench_pipeline.py --tree before=../wt-main --tree after=.

Targets (issue 16): 10,000 accounts within 1.5x the floor and 1 GB on both generators;
100,000 from `.jsonl` within 120 s and 1 GB; 200 accounts within 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_data import AS_OF, DATA, ROOT, folder, references  # noqa: F401 (re-exported)

FLOOR = r"""
import json, re, sys
from pathlib import Path
d = Path(sys.argv[1])
pattern = re.compile(r"\bsso\b")
def scan(call):
    if call.get("transcript"):
        return sum(len(pattern.findall(u["text"])) for u in call["transcript"])
    return len(pattern.findall(call.get("transcript_text") or ""))
hits = 0
if (d / "calls.json").is_file():
    data = {p.name: json.loads(p.read_bytes()) for p in d.glob("*.json")}
    hits = sum(scan(call) for call in data["calls.json"])
else:
    for p in d.glob("*.jsonl"):
        with p.open("rb") as lines:
            for line in lines:
                record = json.loads(line)
                hits += scan(record) if p.name == "calls.jsonl" else 0
print(hits)
"""


def portfolio(n: int) -> Path:
    """The demo generator's cached portfolio of `n` accounts (bench_backtest.py)."""
    return folder("demo", n)


def measure(argv: list[str], tree: Path | None = None) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MiB) of one child process, run in `tree`
    (`python -m` imports esd from the working directory)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if tree:  # an installed esd has its bytecode cached: so do the measured checkouts
        env["PYTHONPATH"] = str(tree)
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                            cwd=tree)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(argv)}\n{proc.stderr.read().decode()}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def command(name: str, directory: Path, refs: Path, out: str) -> list[str]:
    common = ["--input-dir", str(directory), "--references", str(refs), "--as-of", AS_OF,
              "--quiet"]
    if name == "dry-run":
        return ["dry-run", *common, "--out", f"{out}/digests"]
    if name == "segment":
        return ["segment", *common, "--out", f"{out}/segmentation", "--no-state"]
    return ["backtest", *common[:-1], "--weeks", "1", "--out", f"{out}/backtest",
            "--state", f"{out}/none.db", "--quiet"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="demo", help="demo, dense, or both: demo,dense")
    parser.add_argument("--sizes", default="200,1000,10000")
    parser.add_argument("--form", default="json", choices=("json", "jsonl"))
    parser.add_argument("--command", default="dry-run",
                        choices=("dry-run", "segment", "backtest"))
    parser.add_argument("--runs", type=int, default=3, help="best of N")
    parser.add_argument("--tree", action="append", default=[], metavar="NAME=PATH",
                        help="an esd checkout to time (repeatable; default: this one)")
    parser.add_argument("--no-floor", action="store_true")
    args = parser.parse_args()
    trees = [tuple(t.split("=", 1)) for t in args.tree] or [("esd", str(ROOT))]
    rows = []
    for data in args.data.split(","):
        refs = references(data)
        for n in (int(s) for s in args.sizes.split(",")):
            directory = folder(data, n, args.form)
            size_mb = sum(p.stat().st_size for p in directory.iterdir()) / 1e6
            best: dict[str, list[float]] = {}
            for _ in range(args.runs):
                if not args.no_floor:
                    _keep(best, "floor", measure([sys.executable, "-c", FLOOR, str(directory)]))
                for name, path in trees:
                    with tempfile.TemporaryDirectory() as out:
                        argv = [sys.executable, "-m", "esd.cli",
                                *command(args.command, directory, refs, out)]
                        _keep(best, name, measure(argv, Path(path).resolve()))
            floor = best.get("floor", [float("nan")] * 3)
            for name, _ in trees:
                wall, cpu, rss = best[name]
                rows.append((data, n, size_mb, name, wall, cpu, rss, *floor))
                print(f"{data:>5} {n:>7,} {size_mb:7.0f} MB  {name:>8}: {wall:6.2f} s wall "
                      f"{cpu:6.2f} s CPU {rss:6.0f} MiB | floor {floor[0]:6.2f} s "
                      f"{floor[1]:6.2f} s CPU {floor[2]:6.0f} MiB | {wall / floor[0]:4.2f}x "
                      f"wall {cpu / floor[1]:4.2f}x CPU", flush=True)
    print(f"\n`esd {args.command}`, `.{args.form}` input, best of {args.runs}\n\n"
          "| data | accounts | input | tree | wall | CPU | peak memory | floor wall | "
          "floor CPU | floor memory | ratio wall | ratio CPU |\n" + "|---" * 4 + "|---:" * 8
          + "|")
    for data, n, size_mb, name, wall, cpu, rss, f_wall, f_cpu, f_rss in rows:
        print(f"| {data} | {n:,} | {size_mb:,.0f} MB | {name} | {wall:.2f} s | {cpu:.2f} s | "
              f"{rss:,.0f} MiB | {f_wall:.2f} s | {f_cpu:.2f} s | {f_rss:,.0f} MiB | "
              f"{wall / f_wall:.2f}x | {cpu / f_cpu:.2f}x |")


def _keep(best: dict[str, list[float]], name: str, run: tuple[float, float, float]) -> None:
    """Best wall and CPU time of the runs so far, and the highest peak memory."""
    if name not in best:
        best[name] = list(run)
    else:
        best[name] = [min(best[name][0], run[0]), min(best[name][1], run[1]),
                      max(best[name][2], run[2])]


if __name__ == "__main__":
    main()
