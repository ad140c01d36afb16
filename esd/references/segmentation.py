"""Parse `4-segmentation.md` (seed 002, contract §9) into a SegmentationConfig.

The file is optional, and so is each part of it: a table, section or line the team
deleted keeps the seed's default (`esd.segment.defaults`). Layout is lenient like the
other reference files (any heading level, prose anywhere, columns in any order, bold,
`$500K` / `$1M-$2M` / `500,000`, `5-10%` / `5–10 %`); values are strict, and every
problem carries its line. Where each setting is read:

    a table, told apart by its header    Tier | Name | Accounts % target | ARR % target
                                         | ARR from;  Component | Weight;  Score | Status
    heading `Tier N — Name (Motion)`     `CSM ratio:`, `ARR per CSM:`, other `Key: value`
    heading with "health"                `DAU/MAU ...: 0.5`, `... escalation ...: 25%`
    heading with "expansion"             seat, request/ticket, multi-team, API, HIGH, MEDIUM
    heading with "promot"/"demot"        HIGH for N quarters; no signals for N quarters
    heading with "mixed"                 more than N%
    heading "Last edited"                YYYY-MM-DD
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from esd.references.markdown import Block, backticked, clean_title, is_placeholder, parse_blocks
from esd.references.schema import HealthBand, HealthWeight, Problem, SegmentationConfig, TierSpec

Report = Callable[[int, str], None]

KEYS = ("usage", "adoption", "support", "relationship", "nps")
# The words that name each health component; the earliest one in a label decides.
_WORDS = {"usage": ("usage", "dau", "mau"), "adoption": ("adoption", "feature"),
          "support": ("support", "csat", "escalation"),
          "relationship": ("relationship", "champion", "exec"), "nps": ("nps", "satisfaction")}

_NUM = r"[-−]?\d+(?:\.\d+)?"
_DASH = r"(?:-|–|—|to\b)"
_NUMBER = re.compile(rf"(?P<num>{_NUM})\s*(?P<pct>%)?")
_RANGE = re.compile(rf"^(?:~|≈|about|approx\.?)?\s*(?P<a>{_NUM})\s*%?\s*"
                    rf"(?:{_DASH}\s*(?P<b>{_NUM}))?", re.IGNORECASE)
_AMOUNT = r"\$?\s*(\d[\d,]*(?:\.\d+)?)\s*([kmb])?(?![a-z\d])"
_MONEY_RANGE = re.compile(rf"^{_AMOUNT}\s*{_DASH}\s*{_AMOUNT}", re.IGNORECASE)
_MONEY = re.compile(rf"^{_AMOUNT}(\s*\+)?", re.IGNORECASE)
_BELOW = re.compile(r"^(?:under|below|less than|up to|at most|<=?|≤)\s*", re.IGNORECASE)
_ABOVE = re.compile(r"^(?:over|above|more than|at least|>=?|≥)\s*", re.IGNORECASE)
_NO_VALUE = re.compile(r"^(?:[-–—]?$|(?:none|n/?a|no target|calibrated|auto)\b)",
                       re.IGNORECASE)
_RATIO = re.compile(rf"^(?P<n>{_NUM})\s*(?:csms?)?\s*(?::|per\b|/)\s*(?P<a>{_NUM})\s*"
                    rf"(?:{_DASH}\s*(?P<b>{_NUM}))?", re.IGNORECASE)
_NO_CSM = re.compile(r"^(?:0|none|no csm)\b", re.IGNORECASE)
_BAND = re.compile(rf"^(?P<a>{_NUM})\s*(?:(?P<plus>\+|and above|or more)|{_DASH}\s*(?P<b>{_NUM}))",
                   re.IGNORECASE)
_AT_LEAST = re.compile(rf"^(?:>=|≥)\s*(?P<a>{_NUM})")
_TIER = re.compile(r"^tier\s*(?P<n>[-−]?\d+)\s*(?:[—–:-]+\s*)?(?P<rest>.*)$", re.IGNORECASE)
_MOTION = re.compile(r"\((?P<motion>[^()]*)\)\s*$")
_QUARTERS = re.compile(rf"(?P<num>{_NUM})\s*(?:consecutive\s+)?quarters?\b", re.IGNORECASE)
_MORE_THAN = re.compile(rf"(?:more than|over|above|>)\s*(?P<num>{_NUM})\s*%", re.IGNORECASE)
_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


@dataclass
class _Part:
    """A recognised section and the blocks that belong to it (not to a sub-section)."""

    kind: str
    heading: Block
    blocks: list[Block] = field(default_factory=list)


def parse_segmentation(path: Path, text: str | None = None,
                       ) -> tuple[SegmentationConfig, list[Problem]]:
    """The file's settings over the seed's defaults, and every problem found."""
    from esd.segment.defaults import default_config  # esd.segment imports esd.references

    source = path.read_text(encoding="utf-8", errors="replace") if text is None else text
    problems: list[Problem] = []

    def problem(line: int, message: str) -> None:
        problems.append(Problem(file=str(path), line=line, message=message))

    config = default_config()
    config.path = path
    blocks = parse_blocks(source)
    tables = _tables(blocks, problem)
    if "tiers" in tables:
        _tier_table(tables["tiers"], config, problem)
    if "weights" in tables:
        _weights(tables["weights"], config, problem)
    if "bands" in tables:
        _bands(tables["bands"], config, problem)
    named: dict[int, Block] = {}
    for part in _parts(blocks):
        if part.kind == "tier":
            _tier_section(part, config, "tiers" in tables, named, problem)
        elif part.kind == "edited":
            config.last_edited = _last_edited(part, problem)
        else:
            for line, label, value in _lines(part.blocks):
                SETTINGS[part.kind](line, label, value, config, problem)
    if config.potential_medium > config.potential_high:
        problem(config.lines.get("potential_medium", 0),
                f"MEDIUM needs {config.potential_medium} factors, more than HIGH "
                f"({config.potential_high})")
    problems.sort(key=lambda p: p.line)
    return config, problems


# --- layout ---------------------------------------------------------------------------


def _kind(title: str) -> str | None:
    t = title.lower()
    if re.match(r"tier\s*[-−]?\d", t):
        return "tier"
    for words, kind in ((("last edited",), "edited"), (("mixed",), "mixed"),
                        (("promot", "demot"), "movement"), (("expansion",), "expansion"),
                        (("health",), "health")):
        if any(w in t for w in words):
            return kind
    return None


def _parts(blocks: list[Block]) -> list[_Part]:
    """Each block goes to the innermost recognised heading above it."""
    parts: list[_Part] = []
    stack: list[tuple[int, _Part | None]] = []
    for block in blocks:
        if block.kind == "heading":
            while stack and stack[-1][0] >= block.level:
                stack.pop()
            kind = _kind(clean_title(block.text))
            part = _Part(kind, block) if kind else None
            if part:
                parts.append(part)
            stack.append((block.level, part))
        elif block.kind != "row":
            owner = next((p for _, p in reversed(stack) if p), None)
            if owner:
                owner.blocks.append(block)
    return parts


def _lines(blocks: list[Block]) -> Iterator[tuple[int, str, str]]:
    """(line, label, value) of each `Label: value` line (bold removed); a list item
    without a colon is all label and all value."""
    for block in blocks:
        for offset, raw in enumerate(block.text.split("\n")):
            text = raw.replace("*", "").strip()
            label, colon, value = text.partition(":")
            if colon:
                yield block.line + offset, label.strip(), value.strip()
            elif block.kind == "item" and text:
                yield block.line + offset, text, text


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


# --- values ---------------------------------------------------------------------------


def _fmt(value: float) -> str:
    return f"{value:g}"


def _usd(value: float) -> str:
    for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if value >= size:
            return f"${value / size:g}{unit}"
    return f"${value:g}"


def _float(text: str) -> float:
    return float(text.replace("−", "-"))


def _range(text: str) -> tuple[float, float] | None:
    m = _RANGE.match(text.strip())
    if not m:
        return None
    low = _float(m["a"])
    return low, _float(m["b"]) if m["b"] else low


def _amount(number: str, unit: str | None) -> float:
    scale = {"k": 1e3, "m": 1e6, "b": 1e9}.get((unit or "").lower(), 1)
    return float(number.replace(",", "")) * scale


def _money(text: str) -> tuple[float | None, float | None] | str:
    """(low, high) in USD, either None for no bound; a message when unreadable."""
    t = text.strip()
    if _NO_VALUE.match(t):
        return None, None
    if t[0] in "-−":
        return f'"{text}" is negative'
    if m := _BELOW.match(t):
        one = _MONEY.match(t[m.end():])
        return (None, _amount(one[1], one[2])) if one else f'"{text}" is not an amount'
    if m := _ABOVE.match(t):
        one = _MONEY.match(t[m.end():])
        return (_amount(one[1], one[2]), None) if one else f'"{text}" is not an amount'
    if m := _MONEY_RANGE.match(t):
        return _amount(m[1], m[2]), _amount(m[3], m[4])
    if m := _MONEY.match(t):
        value = _amount(m[1], m[2])
        return (value, None) if m[3] else (value, value)
    return f'"{text}" is not an amount (write e.g. $500K, $1M-$2M or under $500K)'


def _share(text: str, what: str, line: int, problem: Report) -> tuple[float, float] | None:
    """A target range in percent, 0-100, min <= max."""
    got = _range(text)
    if got is None:
        problem(line, f'{what} is not a number: "{text}" (write e.g. 5-10%)')
        return None
    low, high = got
    if low < 0 or high < 0:
        problem(line, f'{what} "{text}" is negative')
    elif low > 100 or high > 100:
        problem(line, f'{what} "{text}" is outside 0-100%')
    elif low > high:
        problem(line, f'{what} "{text}" has its minimum above its maximum')
    else:
        return got
    return None


def _number(text: str, what: str, line: int, problem: Report, *, percent: bool = False,
            fraction: bool = False, integer: bool = False, low: float = 0,
            high: float | None = None) -> float | None:
    """The first number in `text`. `fraction`: 25% or 0.25 both give 0.25."""
    m = _NUMBER.search(text)
    if not m:
        problem(line, f'{what} is not a number: "{text}"')
        return None
    value = _float(m["num"])
    if fraction and m["pct"]:
        value /= 100
    shown = m[0].strip() if not percent or m["pct"] else f"{m[0].strip()}%"
    if value < 0:
        problem(line, f"{what} {shown} is negative")
    elif integer and value != int(value):
        problem(line, f"{what} {shown} is not a whole number")
    elif value < low or (high is not None and value > high):
        bounds = f"{_fmt(low)}-{_fmt(high)}" if high is not None else f"at least {_fmt(low)}"
        problem(line, f"{what} {shown} is outside {bounds}")
    else:
        return value
    return None


# --- tables ---------------------------------------------------------------------------


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
        number = re.search(r"[-−]?\d+", cells[idx["tier"]])
        if not number:
            problem(row.line, f'tier is not a number: "{cells[idx["tier"]]}" (write 1-4)')
            continue
        tier = int(_float(number[0]))
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
            got = _share(cells[idx[column]], what, row.line, problem)
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
                    f"to {_fmt(lows)}%, maximums to {_fmt(highs)}%)")


def _arr_from(spec: TierSpec, text: str, line: int, problem: Report) -> None:
    got = _money(text)
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
            problem(spec.line, f"Tier {spec.tier} ARR from {_usd(spec.arr_from)} is not below "
                    f"Tier {above.tier}'s {_usd(above.arr_from)}: cut points go down from "
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
        value = _number(cells[weight], f"weight of {label}", row.line, problem)
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
            problem(header.line, f"health weights sum to {_fmt(total)}, not 100")
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
        m = _BAND.match(text) or _AT_LEAST.match(text)
        bad = True
        if not label:
            problem(row.line, f'band "{text}" has no status name')
        elif not m:
            problem(row.line, f'score range of band {label} is not a range: "{text}" '
                    "(write e.g. 60-79, or 80+)")
        elif (low := _float(m["a"])) < 0 or (
                high := _float(m["b"]) if m.groupdict().get("b") else 100.0) < 0:
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
        problem(ordered[0][2].line, f"no band covers scores below {_fmt(ordered[0][0])}")
        ok = False
    if max(high for _, high, _ in ordered) != 100:
        problem(ordered[-1][2].line, "no band reaches a score of 100")
        ok = False
    for (_, prev_high, prev), (low, high, band) in zip(ordered, ordered[1:], strict=False):
        if low <= prev_high:
            problem(band.line, f"band {band.name} ({_fmt(low)}-{_fmt(high)}) overlaps band "
                    f"{prev.name} (up to {_fmt(prev_high)}): write e.g. 40-59, 60-79")
            ok = False
        elif low - prev_high > 1:
            problem(band.line, f"no band covers scores between {_fmt(prev_high)} and "
                    f"{_fmt(low)}")
            ok = False
    return ok


# --- sections -------------------------------------------------------------------------


def _tier_section(part: _Part, config: SegmentationConfig, has_table: bool,
                  named: dict[int, Block], problem: Report) -> None:
    line = part.heading.line
    m = _TIER.match(clean_title(part.heading.text))
    tier = int(_float(m["n"])) if m else 0
    specs = {t.tier: t for t in config.tiers}
    if tier not in specs:
        problem(line, f"Tier {tier} section: tiers are numbered 1-4")
        return
    motion = _MOTION.search(m["rest"])
    name = (m["rest"][: motion.start()] if motion else m["rest"]).strip()
    if tier in named:
        problem(line, f"Tier {tier} has two sections (the first at line {named[tier].line})")
        return
    named[tier] = part.heading
    spec = specs[tier]
    if name and has_table and name.lower() != spec.name.lower():
        problem(line, f'heading calls Tier {tier} "{name}" but the tiers table '
                f'(line {spec.line}) calls it "{spec.name}"')
    elif name:
        spec.name = name
    if not has_table:
        spec.line = line
    if motion and motion["motion"].strip():
        spec.motion = motion["motion"].strip()
    details: dict[str, str] = {}
    for at, label, value in _lines(part.blocks):
        key = label.lower()
        if "ratio" in key:
            _csm_ratio(spec, value, at, problem)
        elif "arr" in key and "csm" in key:
            got = _money(value)
            if isinstance(got, str):
                problem(at, f"Tier {tier} ARR per CSM: {got}")
            elif None not in got and got[0] > got[1]:
                problem(at, f'Tier {tier} ARR per CSM "{value}" has its minimum above its '
                        "maximum")
            else:
                spec.arr_per_csm = got
        elif label != value and value:
            details[label] = value
    if details:
        spec.details = details


def _csm_ratio(spec: TierSpec, text: str, line: int, problem: Report) -> None:
    what = f"Tier {spec.tier} CSM ratio"
    m = _RATIO.match(text)
    if m is None:
        if _NO_CSM.match(text):
            spec.csm_ratio = None
        else:
            problem(line, f'{what} "{text}" must read "1 CSM : 5-8 accounts", or 0 for no CSM')
        return
    csms, low = _float(m["n"]), _float(m["a"])
    high = _float(m["b"]) if m["b"] else low
    if min(csms, low, high) < 0:
        problem(line, f'{what} "{text}" is negative')
    elif csms < 1 or low < 1:
        problem(line, f'{what} "{text}" needs at least 1 CSM and 1 account (write 0 alone '
                "for no CSM)")
    elif low > high:
        problem(line, f'{what} "{text}" has its minimum above its maximum')
    elif low % csms or high % csms:
        problem(line, f'{what} "{text}": write it per CSM, e.g. 1 CSM : '
                f"{_fmt(low / csms)}-{_fmt(high / csms)} accounts")
    else:
        spec.csm_ratio = (int(low // csms), int(high // csms))


def _set(config: SegmentationConfig, key: str, value: float | None, line: int,
         integer: bool = False) -> None:
    if value is not None:
        setattr(config, key, int(value) if integer else value)
        config.lines[key] = line


def _health(line: int, label: str, value: str, config: SegmentationConfig,
            problem: Report) -> None:
    key = label.lower()
    if re.search(r"\b(?:dau|mau)\b", key):
        got = _number(value, "DAU/MAU for full usage points", line, problem, fraction=True)
        if got == 0 or (got or 0) > 1:
            problem(line, f"DAU/MAU for full usage points {_fmt(got)} is outside 0-1 "
                    "(it is a ratio: 0.5 means half the monthly users active each day)")
            got = None
        _set(config, "usage_full_at", got, line)
    elif "escalation" in key:
        _set(config, "escalation_cost", _number(value, "cost of an open escalation", line,
                                                problem, fraction=True, high=1), line)


def _expansion(line: int, label: str, value: str, config: SegmentationConfig,
               problem: Report) -> None:
    key = label.lower()
    if "multi" in key or re.search(r"\bapi\b", key):
        setting = "multi_team_skus" if "multi" in key else "api_event_types"
        names = [v for v in backticked(value) if v]
        if not names:
            problem(line, f"{label}: list them in backticks, e.g. `additional-team-seats`")
            return
        setattr(config, setting, names)
        config.lines[setting] = line
    elif key.startswith(("high", "medium")):
        setting = "potential_high" if key.startswith("high") else "potential_medium"
        got = _number(value, f"factors for {label.split()[0].upper()}", line, problem,
                      integer=True, low=1)
        _set(config, setting, got, line, integer=True)
    elif "seat" in key or "utili" in key:
        _set(config, "seat_utilisation", _number(value, "seat utilisation", line, problem,
                                                 percent=True), line)
    elif "request" in key or "ticket" in key:
        _set(config, "feature_requests", _number(value, "feature requests", line, problem,
                                                 integer=True, low=1), line, integer=True)


def _movement(line: int, label: str, value: str, config: SegmentationConfig,
              problem: Report) -> None:
    key, text = label.lower(), value.lower()
    if "promot" in key and re.search(r"\bhigh\b", text):
        setting, what = "promote_high_quarters", "quarters of HIGH potential to promote"
    elif "demot" in key and "signal" in text:
        setting, what = "demote_quiet_quarters", "quarters without signals to demote"
    else:
        return
    m = _QUARTERS.search(value)
    if m is None:
        problem(line, f'{what}: write the number of quarters, e.g. "for 2 consecutive '
                'quarters"')
        return
    _set(config, setting, _number(m[0], what, line, problem, integer=True, low=1), line,
         integer=True)


def _mixed(line: int, label: str, value: str, config: SegmentationConfig,
           problem: Report) -> None:
    m = _MORE_THAN.search(f"{label}: {value}" if label != value else value)
    if m:
        _set(config, "mixed_book_share", _number(m[0], "mixed-book share", line, problem,
                                                 percent=True, high=100), line)


SETTINGS = {"health": _health, "expansion": _expansion, "movement": _movement,
            "mixed": _mixed}


def _last_edited(part: _Part, problem: Report) -> date | None:
    for block in [part.heading, *part.blocks]:
        text = block.text if block.kind != "heading" else block.text.split(":", 1)[-1]
        m = _DATE.search(text)
        if m:
            try:
                return date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                problem(block.line, f"Last edited date {m[0]} is not a real date")
                return None
        if block.kind != "heading" and is_placeholder(text):
            return None
    return None
