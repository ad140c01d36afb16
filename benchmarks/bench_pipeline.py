"""Time `esd dry-run` end to end on portfolios of 200, 1,000 and 10,000 accounts.

Each account gets one ~6,000-token (~4,500-word) call transcript per week, as the
seed's cost section assumes, plus usage events and tickets. Every measurement runs in
a fresh process (interpreter start-up included) and reports wall time and peak
resident memory. The *floor* is the least any implementation must do: load the same
JSON files and make one pass of one compiled regex over every transcript; the ratio
says how far above that floor the whole pipeline runs.

    python benchmarks/bench_pipeline.py                 # 200, 1000, 10000 accounts
    python benchmarks/bench_pipeline.py --sizes 200,1000

Targets (issue 2): 10,000 accounts under 20 s and 1.5 GB; 200 accounts under 1 s.
Generated portfolios are cached in benchmarks/.data/ (git-ignored).
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / ".data"
AS_OF = "2026-11-23"
TRANSCRIPT_WORDS = 4500  # ~6,000 tokens

FLOOR = r"""
import json, re, sys
from pathlib import Path
d = Path(sys.argv[1])
data = {p.name: json.loads(p.read_bytes()) for p in d.glob("*.json")}
pattern = re.compile(r"\bsso\b")
hits = 0
for call in data["calls.json"]:
    if call.get("transcript"):
        for u in call["transcript"]:
            hits += len(pattern.findall(u["text"]))
    elif call.get("transcript_text"):
        hits += len(pattern.findall(call["transcript_text"]))
print(hits)
"""


def portfolio(n: int) -> Path:
    """The cached portfolio of `n` accounts, generated on first use."""
    target = DATA / f"portfolio-{n}"
    if (target / "accounts.json").is_file():
        return target
    sys.path.insert(0, str(ROOT / "examples"))
    from generate_portfolio import build_portfolio

    files = build_portfolio(n, seed=7, transcript_words=TRANSCRIPT_WORDS)
    staging = Path(tempfile.mkdtemp(dir=DATA.parent if DATA.exists() else None))
    for key, records in files.items():
        name = key if key.endswith(".json") else f"{key}.json"
        (staging / name).write_text(json.dumps(records), encoding="utf-8")
    DATA.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def measure(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(argv)}\n{proc.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss / 1024


def best_of(runs: int, argv: list[str]) -> tuple[float, float]:
    results = [measure(argv) for _ in range(runs)]
    return min(r[0] for r in results), max(r[1] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="200,1000,10000")
    parser.add_argument("--runs", type=int, default=3, help="best of N (1 for 10,000)")
    args = parser.parse_args()
    esd = [sys.executable, "-m", "esd.cli"]
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        directory = portfolio(n)
        size_mb = sum(p.stat().st_size for p in directory.glob("*.json")) / 1e6
        runs = 1 if n >= 10_000 else args.runs
        with tempfile.TemporaryDirectory() as out:
            wall, rss = best_of(runs, [
                *esd, "dry-run", "--input-dir", str(directory), "--references",
                str(ROOT / "references"), "--as-of", AS_OF, "--out", f"{out}/digests", "--quiet"])
        floor, floor_rss = best_of(runs, [sys.executable, "-c", FLOOR, str(directory)])
        rows.append((n, size_mb, wall, rss, floor, floor_rss))
        print(f"{n:>6} accounts  {size_mb:7.1f} MB input  dry-run {wall:6.2f} s "
              f"{rss:7.0f} MiB peak  | floor {floor:6.2f} s {floor_rss:6.0f} MiB  "
              f"| ratio {wall / floor:4.2f}x", flush=True)
    print("\n| accounts | input | `esd dry-run` | peak memory | floor (JSON + 1 regex pass) "
          "| ratio |\n|---:|---:|---:|---:|---:|---:|")
    for n, size_mb, wall, rss, floor, _ in rows:
        print(f"| {n:,} | {size_mb:.0f} MB | {wall:.2f} s | {rss:,.0f} MiB | {floor:.2f} s "
              f"| {wall / floor:.2f}x |")


if __name__ == "__main__":
    main()
