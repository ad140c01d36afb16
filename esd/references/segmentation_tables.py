"""The tiers, weights and bands tables of `4-segmentation.md`, read over the defaults.

Each table is told apart by its header, columns in any order; only the first of each kind
counts. The tiers table is read row by row; the weights and bands tables are taken whole or
not at all, so a problem in either keeps the defaults' weights or bands:

    tiers      Tier | Name | Accounts % target | ARR % target | ARR from
    weights    Component | Weight        (all five components, summing to 100)
    bands      Score | Status | Color    (covering 0-100, no gap or overlap)
"""

from __future__ import annotations

import re

from esd.format import usd
from esd.references.markdown import Block, clean_title
from esd.references.segmentation_schema import (
    HealthBand,
    HealthWeight,
    SegmentationConfig,
    TierSpec,
)
from esd.references.values import Report, band_range, fmt, money, number, share, to_float

KEYS = ("usage", "adoption", "support", "relationship", "nps")
# The words that name each health component; the earliest one in a label decides.
_WORDS = {"usage": ("usage", "dau", "mau"), "adoption": ("adoption", "feature"),
          "support": ("support", "csat", "escalation"),
          "relationship": ("relationship", "champion", "exec"), "nps": ("nps", "satisfaction")}


def read_tables(blocks: list[Block], config: SegmentationConfig, problem: Report) -> set[str]:
    """Read the first tiers, weights and bands table into `config`; the kinds found."""
    tables = _tables(blocks, problem)
    for kind, read in (("tiers", _tier_table), ("weights", _weights), ("bands", _bands)):
        if kind in tables:
            read(tables[kind], config, problem)
    return set(tables)


def _tables(blocks: list[Block], problem: Report) -> dict[str, list[Block]]:
    """The first tiers, weights and bands table, each as its rows (header first)."""
    found: dict[str, list[Block]] = {}
    current: list[Block] | None = None
    for block in blocks:
        if block.kind == "row" and block.header:
            columns = [clean_title(c).lower() for c in block.cells]
            kind = _table_kind(columns)
            current = None
            if kind in found:
                problem(block.line, f"a second {kind} table (the first is at line "
                        f"{found[kind][0].line}); esd reads only the first")
            elif kind:
                current = found[kind] = [block]
        elif block.kind == "row" and current is not None:
            current.append(block)
        elif block.kind != "row":
            current = None
    return found


def _table_kind(columns: list[str]) -> str | None:
    if any("weight" in c for c in columns):
        return "weights"
    if any(c.startswith("tier") for c in columns) and any("account" in c for c in columns):
        return "tiers"
    if any("status" in c or "band" in c for c in columns):
        return "bands"
    return None


def _column(columns: list[str], accept, reject=()) -> int | None:
    return next((i for i, c in enumerate(columns)
                 if any(a in c for a in accept) and not any(r in c for r in reject)), None)


def _cells(row: Block, width: int) -> list[str]:
    return [c.replace("*", "").strip() for c in row.cells] + [""] * width


def _tier_table(rows: list[Block], config: SegmentationConfig, problem: Report) -> None:
    header = rows[0]
    columns = [clean_title(c).lower() for c in header.cells]
    pinned = ("from", "cut", "threshold", "floor", "min")
    idx = {"tier": _column(columns, ("tier",), ("name",)), "name": _column(columns, ("name",)),
           "accounts": _column(columns, ("account",)),
           "arr": _column(columns, ("arr",), (*pinned, "range", "per csm")),
           "from": _column(columns, pinned)}
    missing = [k for k in ("tier", "accounts", "arr") if idx[k] is None]
    if missing:
        problem(header.line, f"tiers table lacks column(s): {', '.join(missing)} (expected "
                "Tier | Name | Accounts % target | ARR % target | ARR from)")
        return
    specs = {t.tier: t for t in config.tiers}
    seen: dict[int, int] = {}
    for row in rows[1:]:
        cells = _cells(row, len(columns))
        digits = re.search(r"[-−]?\d+", cells[idx["tier"]])
        if not digits:
            problem(row.line, f'tier is not a number: "{cells[idx["tier"]]}" (write 1-4)')
            continue
        tier = int(to_float(digits[0]))
        if tier not in specs:
            problem(row.line, f"tier {tier} is outside 1-4")
            continue
        if tier in seen:
            problem(row.line, f"tier {tier} is listed twice (first at line {seen[tier]})")
            continue
        seen[tier] = row.line
        spec = specs[tier]
        spec.line = row.line
        if idx["name"] is not None and cells[idx["name"]]:
            spec.name = cells[idx["name"]]
        for key, column in (("share_accounts", "accounts"), ("share_arr", "arr")):
            what = f"Tier {tier} {'accounts' if column == 'accounts' else 'ARR'} % target"
            got = share(cells[idx[column]], what, row.line, problem)
            if got:
                setattr(spec, key, got)
        if idx["from"] is not None:
            _arr_from(spec, cells[idx["from"]], row.line, problem)
    absent = [str(t) for t in sorted(specs) if t not in seen]
    if absent:
        problem(header.line, f"tiers table lacks Tier {', '.join(absent)} (list all four)")
    _check_cuts(config.tiers, problem)
    for key, what in (("share_accounts", "accounts"), ("share_arr", "ARR")):
        lows = sum(getattr(t, key)[0] for t in config.tiers)
        highs = sum(getattr(t, key)[1] for t in config.tiers)
        if lows > 100 or highs < 100:
            problem(header.line, f"the {what} % targets cannot add up to 100% (minimums sum "
                    f"to {fmt(lows)}%, maximums to {fmt(highs)}%)")


def _arr_from(spec: TierSpec, text: str, line: int, problem: Report) -> None:
    got = money(text)
    if isinstance(got, str):
        problem(line, f"Tier {spec.tier} ARR from: {got}")
    elif got == (None, None):
        spec.arr_from = None
    elif spec.tier == 4:
        problem(line, "Tier 4 has no ARR from: it takes every account below Tier 3")
    elif got[0] is None or got[1] not in (None, got[0]):
        problem(line, f'Tier {spec.tier} ARR from "{text}" must be one amount, e.g. $250K')
    else:
        spec.arr_from = got[0]


def _check_cuts(tiers: list[TierSpec], problem: Report) -> None:
    """Pinned cut points go strictly down from Tier 1 to Tier 3."""
    above: TierSpec | None = None
    for spec in sorted(tiers, key=lambda t: t.tier):
        if spec.arr_from is None:
            continue
        if above is not None and spec.arr_from >= above.arr_from:
            problem(spec.line, f"Tier {spec.tier} ARR from {usd(spec.arr_from)} is not below "
                    f"Tier {above.tier}'s {usd(above.arr_from)}: cut points go down from "
                    "Tier 1 to Tier 3")
            spec.arr_from = None
            continue
        above = spec


def _component(label: str) -> str | None:
    text = label.lower()
    first: list[tuple[int, str]] = []
    for key, words in _WORDS.items():
        hits = [m.start() for w in words for m in re.finditer(rf"\b{w}", text)]
        if hits:
            first.append((min(hits), key))
    return min(first)[1] if first else None


def _weights(rows: list[Block], config: SegmentationConfig, problem: Report) -> None:
    header = rows[0]
    columns = [clean_title(c).lower() for c in header.cells]
    weight = _column(columns, ("weight",))
    label_at = _column(columns, ("component", "signal", "factor", "name"), ("weight",))
    if label_at is None:
        label_at = next((i for i in range(len(columns)) if i != weight), None)
    if label_at is None:
        problem(header.line, "weights table needs columns Component and Weight")
        return
    found: dict[str, HealthWeight] = {}
    bad = False
    for row in rows[1:]:
        cells = _cells(row, len(columns))
        label = cells[label_at].replace("`", "").strip()
        key = _component(label)
        if key is None:
            problem(row.line, f'unknown health component "{label}" (name one of: product '
                    "usage, feature adoption, support, relationship, NPS)")
            bad = True
            continue
        if key in found:
            problem(row.line, f'health component "{label}" is the same as "{found[key].label}" '
                    f"(line {found[key].line}): both are {key}")
            bad = True
            continue
        value = number(cells[weight], f"weight of {label}", row.line, problem)
        if value is None:
            bad = True
            continue
        found[key] = HealthWeight(key=key, label=label, weight=value, line=row.line)
    missing = [k for k in KEYS if k not in found]
    if missing and not bad:
        problem(header.line, f"health component(s) {', '.join(missing)} missing from the "
                "weights table (give a component weight 0 to leave it out)")
    elif not bad:
        total = sum(w.weight for w in found.values())
        if abs(total - 100) > 1e-6:
            problem(header.line, f"health weights sum to {fmt(total)}, not 100")
        else:
            config.weights = [found[k] for k in KEYS]


def _bands(rows: list[Block], config: SegmentationConfig, problem: Report) -> None:
    header = rows[0]
    columns = [clean_title(c).lower() for c in header.cells]
    score = _column(columns, ("score", "range"))
    name = _column(columns, ("status", "band", "name"))
    color = _column(columns, ("colo",))
    if score is None or name is None:
        problem(header.line, "bands table needs columns Score and Status (and optionally "
                "Color)")
        return
    bands: list[tuple[float, float, HealthBand]] = []
    failed = False
    for row in rows[1:]:
        cells = _cells(row, len(columns))
        text, label = cells[score], cells[name]
        got = band_range(text)
        low, high = got or (0.0, 0.0)
        bad = True
        if not label:
            problem(row.line, f'band "{text}" has no status name')
        elif got is None:
            problem(row.line, f'score range of band {label} is not a range: "{text}" '
                    "(write e.g. 60-79, or 80+)")
        elif low < 0 or high < 0:
            problem(row.line, f'score range of band {label} "{text}" is negative')
        elif high > 100:
            problem(row.line, f'score range of band {label} "{text}" is outside 0-100')
        elif low > high:
            problem(row.line, f'score range of band {label} "{text}" has its minimum above '
                    "its maximum")
        elif any(b.name.lower() == label.lower() for _, _, b in bands):
            problem(row.line, f"band {label} is listed twice")
        else:
            bad = False
            bands.append((low, high, HealthBand(name=label, min_score=low, line=row.line,
                                                color=cells[color] if color is not None
                                                else "")))
        failed = failed or bad
    if not failed and _cover(bands, header.line, problem):
        config.bands = [b for _, _, b in sorted(bands, key=lambda x: -x[0])]


def _cover(bands: list[tuple[float, float, HealthBand]], line: int, problem: Report) -> bool:
    """The bands cover 0-100 with no gap (integer steps: 0-39 then 40-59) or overlap."""
    if not bands:
        problem(line, "bands table has no rows")
        return False
    ordered = sorted(bands, key=lambda x: x[0])
    ok = True
    if ordered[0][0] != 0:
        problem(ordered[0][2].line, f"no band covers scores below {fmt(ordered[0][0])}")
        ok = False
    if max(high for _, high, _ in ordered) != 100:
        problem(ordered[-1][2].line, "no band reaches a score of 100")
        ok = False
    for (_, prev_high, prev), (low, high, band) in zip(ordered, ordered[1:], strict=False):
        if low <= prev_high:
            problem(band.line, f"band {band.name} ({fmt(low)}-{fmt(high)}) overlaps band "
                    f"{prev.name} (up to {fmt(prev_high)}): write e.g. 40-59, 60-79")
            ok = False
        elif low - prev_high > 1:
            problem(band.line, f"no band covers scores between {fmt(prev_high)} and "
                    f"{fmt(low)}")
            ok = False
    return ok
