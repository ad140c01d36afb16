"""The portfolios the pipeline benchmarks read, generated on first use and cached in
benchmarks/.data/ (git-ignored).

- `demo`: examples/generate_portfolio.py's background portfolio, one ~6,000-token call
  per account (half `transcript`, half `transcript_text`) and a planted signal in one
  account of 40. Folder `portfolio-N` (`.json`) or `portfolio-N-jsonl`.
- `dense`: benchmarks/ordinary_week.py with `dense=True`: the same accounts, usage and
  tickets, every call replaced by ~4,500 words of small talk in which team, users,
  export, integration and dashboard stand in nearly every sentence; read against a copy
  of references/ whose taxonomy adds the trigger `DENSE_TRIGGER` ("export to {...}"),
  whose rarest word is in a third of all customer utterances (`references-dense`).
  Folder `dense-N` or `dense-N-jsonl`. Calls are generated and written one at a time,
  so 100,000 accounts fit in a few hundred MB.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / ".data"
AS_OF = "2026-11-23"
TRANSCRIPT_WORDS = 4500  # ~6,000 tokens
sys.path[:0] = [str(ROOT / "examples"), str(ROOT / "benchmarks")]


def folder(data: str, n: int, form: str = "json") -> Path:
    """The cached input folder of generator `data` ("demo" or "dense") for `n` accounts,
    its files in `form` ("json" or "jsonl")."""
    name = {"demo": "portfolio", "dense": "dense"}[data]
    target = DATA / (f"{name}-{n}" if form == "json" else f"{name}-{n}-{form}")
    if (target / f"accounts.{form}").is_file():
        return target
    if data == "demo":
        from generate_portfolio import build_portfolio

        files = build_portfolio(n, seed=7, transcript_words=TRANSCRIPT_WORDS)
        calls: Iterable[dict] = files.pop("calls")
    else:
        from generate_portfolio import build_portfolio
        from ordinary_week import ordinary_calls

        files = build_portfolio(n, seed=11)
        calls = ordinary_calls(files.pop("calls"), seed=11, words=TRANSCRIPT_WORDS,
                               dense=True)
    DATA.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=DATA))
    for key, records in [*files.items(), ("calls", calls)]:
        _write(staging / f"{key.removesuffix('.json')}.{form}", records, form)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def references(data: str) -> Path:
    """The reference folder a generator's week is read against."""
    if data == "demo":
        return ROOT / "references"
    from ordinary_week import DENSE_TRIGGER

    target = DATA / "references-dense"
    taxonomy = target / "1-expansion-signal-taxonomy.md"
    if taxonomy.is_file():
        return target
    DATA.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=DATA))
    for path in (ROOT / "references").iterdir():
        shutil.copy(path, staging / path.name)
    text = (staging / taxonomy.name).read_text(encoding="utf-8")
    anchor = '  - "workflow automation" / "advanced analytics"\n'
    assert anchor in text, "references/ changed: update bench_data.references"
    text = text.replace(anchor, anchor + f'  - "{DENSE_TRIGGER}"\n')
    (staging / taxonomy.name).write_text(text, encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def _write(path: Path, records: Iterable[dict], form: str) -> None:
    """One record at a time, each transcript dropped once written."""
    with path.open("w", encoding="utf-8") as out:
        first = True
        if form == "json":
            out.write("[")
        for record in records:
            if form == "json":
                out.write(("" if first else ", ") + json.dumps(record))
            else:
                out.write(json.dumps(record) + "\n")
            first = False
            record.pop("transcript", None)
            record.pop("transcript_text", None)
        if form == "json":
            out.write("]")


if __name__ == "__main__":  # python benchmarks/bench_data.py dense 1000 [jsonl]
    print(folder(sys.argv[1], int(sys.argv[2]), *sys.argv[3:4]))
