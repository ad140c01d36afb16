"""Parse `2-segment-baseline-config.md` (contract §4) into Baselines."""

from __future__ import annotations

import re
from pathlib import Path

from esd.references.markdown import Block, clean_title, is_placeholder, parse_blocks, sections
from esd.references.schema import BaselineRow, Baselines, Problem, Segment

_SEGMENT = re.compile(r"^segment\s*:\s*(?P<name>.+)$", re.IGNORECASE)
# "+1.5%", "-2", "0", "±7%", "+/-7 %", "± 0 (any > 0 is signal)": sign, number, rest is comment.
_MEDIAN = re.compile(r"^\s*(?P<num>[+\-−]?\s*\d+(?:\.\d+)?)\s*%?")
_BAND = re.compile(r"^\s*(?:±|\+/-|\+-)?\s*(?P<num>\d+(?:\.\d+)?)\s*%?")


def parse_baselines(path: Path, text: str | None = None) -> tuple[Baselines, list[Problem]]:
    source = path.read_text(encoding="utf-8", errors="replace") if text is None else text
    problems: list[Problem] = []

    def problem(line: int, message: str) -> None:
        problems.append(Problem(file=str(path), line=line, message=message))

    segments: dict[str, Segment] = {}
    for section in sections(parse_blocks(source)):
        m = _SEGMENT.match(section.title)
        if not m or is_placeholder(m.group("name")):
            continue
        name = m.group("name").strip()
        if name.lower() in segments:
            problem(section.heading.line, f'segment "{name}" is defined twice')
            continue
        rows = _rows(name, [b for b in section.body if b.kind == "row"], problem)
        if not rows:
            problem(section.heading.line, f'segment "{name}" has no baseline table rows')
        segments[name.lower()] = Segment(name=name, line=section.heading.line, rows=rows)
    if not segments:
        problem(1, 'no segment sections found (expected headings like "### Segment: enterprise")')
    return Baselines(path=path, segments=segments), problems


def _rows(segment: str, rows: list[Block], problem) -> dict[str, BaselineRow]:
    header = next((r for r in rows if r.header), None)
    if header is None:
        return {}
    columns = [clean_title(c).lower() for c in header.cells]
    idx = {
        "metric": _column(columns, "metric"),
        "median": _column(columns, "median"),
        "band": _column(columns, "noise", "band"),
    }
    missing = [k for k, v in idx.items() if v is None]
    if missing:
        problem(header.line, f"baseline table for {segment} lacks column(s): {', '.join(missing)} "
                "(expected Metric | Median weekly delta | Noise band)")
        return {}
    out: dict[str, BaselineRow] = {}
    for row in rows:
        if row.header:
            continue
        cells = list(row.cells) + [""] * len(columns)
        metric = cells[idx["metric"]].strip().strip("`").strip()
        if not metric:
            problem(row.line, f"baseline row in {segment} has no metric name")
            continue
        median = _MEDIAN.match(cells[idx["median"]])
        band = _BAND.match(cells[idx["band"]])
        if not median:
            problem(row.line, f"median weekly delta for {segment}/{metric} is not a number: "
                    f'"{cells[idx["median"]]}" (write e.g. +1.5%)')
            continue
        if not band:
            problem(row.line, f"noise band for {segment}/{metric} is not a number: "
                    f'"{cells[idx["band"]]}" (write e.g. ±7%)')
            continue
        if metric in out:
            problem(row.line, f"metric {metric} appears twice in segment {segment}")
            continue
        median_value = float(median.group("num").replace(" ", "").replace("−", "-"))
        out[metric] = BaselineRow(metric=metric, median=median_value,
                                  band=float(band.group("num")), line=row.line)
    return out


def _column(columns: list[str], *needles: str) -> int | None:
    return next((i for i, c in enumerate(columns) if any(n in c for n in needles)), None)
