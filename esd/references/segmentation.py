"""Parse `4-segmentation.md` (seed 002, contract §9) into a SegmentationConfig.

The file is optional, and so is each part of it: a table, section or line the team
deleted keeps the seed's default (`segmentation_defaults`). Layout is lenient like the
other reference files (any heading level, prose anywhere, columns in any order, bold,
`$500K` / `$1M-$2M` / `500,000`, `5-10%` / `5–10 %`: `esd.references.values`); values
are strict, and every problem carries its line. Where each setting is read:

    a table (`segmentation_tables`)      Tier | Name | Accounts % target | ARR % target
                                         | ARR from;  Component | Weight;  Score | Status
    heading `Tier N — Name (Motion)`     `CSM ratio:`, `ARR per CSM:`, other `Key: value`
    heading with "health"                `DAU/MAU ...: 0.5`, `... escalation ...: 25%`
    heading with "expansion"             seat, request/ticket, multi-team, API, HIGH, MEDIUM
    heading with "promot"/"demot"        HIGH for N quarters; no signals for N quarters
    heading with "mixed"                 more than N%
    heading with "input", "NRR", "goal"  `Target NRR: 110%`, `Current motion: all high-touch`
    (step 0)                             (a tier's own `Current motion:` line wins)
    heading "Last edited"                YYYY-MM-DD
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from esd.references.markdown import (
    Block,
    backticked,
    clean_title,
    last_edited,
    parse_blocks,
)
from esd.references.schema import Problem, SegmentationConfig, TierSpec
from esd.references.segmentation_defaults import default_config
from esd.references.segmentation_tables import read_tables
from esd.references.values import (
    Report,
    csm_ratio,
    fmt,
    money,
    more_than,
    no_csm,
    number,
    quarters,
    to_float,
)

_TIER = re.compile(r"^tier\s*(?P<n>[-−]?\d+)\s*(?:[—–:-]+\s*)?(?P<rest>.*)$", re.IGNORECASE)
_MOTION = re.compile(r"\((?P<motion>[^()]*)\)\s*$")


@dataclass
class _Part:
    """A recognised section and the blocks that belong to it (not to a sub-section)."""

    kind: str
    heading: Block
    blocks: list[Block] = field(default_factory=list)


def parse_segmentation(path: Path, text: str | None = None,
                       ) -> tuple[SegmentationConfig, list[Problem]]:
    """The file's settings over the seed's defaults, and every problem found."""
    source = path.read_text(encoding="utf-8", errors="replace") if text is None else text
    problems: list[Problem] = []

    def problem(line: int, message: str) -> None:
        problems.append(Problem(file=str(path), line=line, message=message))

    config = default_config()
    config.path = path
    blocks = parse_blocks(source)
    tables = read_tables(blocks, config, problem)
    named: dict[int, Block] = {}
    for part in _parts(blocks):
        if part.kind == "tier":
            _tier_section(part, config, "tiers" in tables, named, problem)
        elif part.kind == "edited":
            config.last_edited = last_edited([part.heading, *part.blocks], problem)
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
                        (("health",), "health"),
                        (("input", "nrr", "net revenue retention", "goal", "step 0"),
                         "inputs")):
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



# --- sections -------------------------------------------------------------------------


def _tier_section(part: _Part, config: SegmentationConfig, has_table: bool,
                  named: dict[int, Block], problem: Report) -> None:
    line = part.heading.line
    m = _TIER.match(clean_title(part.heading.text))
    tier = int(to_float(m["n"])) if m else 0
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
        if key.startswith("current"):
            spec.current_motion = _motion_text(value)
        elif "ratio" in key:
            _set_ratio(spec, value, at, problem)
        elif "arr" in key and "csm" in key:
            got = money(value)
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


def _set_ratio(spec: TierSpec, text: str, line: int, problem: Report) -> None:
    what = f"Tier {spec.tier} CSM ratio"
    got = csm_ratio(text)
    if got is None:
        if no_csm(text):
            spec.csm_ratio = None
        else:
            problem(line, f'{what} "{text}" must read "1 CSM : 5-8 accounts", or 0 for no CSM')
        return
    csms, low, high = got
    if min(csms, low, high) < 0:
        problem(line, f'{what} "{text}" is negative')
    elif csms < 1 or low < 1:
        problem(line, f'{what} "{text}" needs at least 1 CSM and 1 account (write 0 alone '
                "for no CSM)")
    elif low > high:
        problem(line, f'{what} "{text}" has its minimum above its maximum')
    elif low % csms or high % csms:
        problem(line, f'{what} "{text}": write it per CSM, e.g. 1 CSM : '
                f"{fmt(low / csms)}-{fmt(high / csms)} accounts")
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
        got = number(value, "DAU/MAU for full usage points", line, problem, fraction=True)
        if got == 0 or (got or 0) > 1:
            problem(line, f"DAU/MAU for full usage points {fmt(got)} is outside 0-1 "
                    "(it is a ratio: 0.5 means half the monthly users active each day)")
            got = None
        _set(config, "usage_full_at", got, line)
    elif "escalation" in key:
        _set(config, "escalation_cost", number(value, "cost of an open escalation", line,
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
        got = number(value, f"factors for {label.split()[0].upper()}", line, problem,
                     integer=True, low=1)
        _set(config, setting, got, line, integer=True)
    elif "seat" in key or "utili" in key:
        _set(config, "seat_utilisation", number(value, "seat utilisation", line, problem,
                                                percent=True), line)
    elif "request" in key or "ticket" in key:
        _set(config, "feature_requests", number(value, "feature requests", line, problem,
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
    phrase = quarters(value)
    if phrase is None:
        problem(line, f'{what}: write the number of quarters, e.g. "for 2 consecutive '
                'quarters"')
        return
    _set(config, setting, number(phrase, what, line, problem, integer=True, low=1), line,
         integer=True)


def _mixed(line: int, label: str, value: str, config: SegmentationConfig,
           problem: Report) -> None:
    phrase = more_than(f"{label}: {value}" if label != value else value)
    if phrase:
        _set(config, "mixed_book_share", number(phrase, "mixed-book share", line, problem,
                                                percent=True, high=100), line)


def _motion_text(value: str) -> str | None:
    """A current motion as written; blank, `-` or `mixed` (see the tiers) states none."""
    text = value.strip()
    return None if re.fullmatch(r"[-–—]?|mixed\b.*|n/?a|none stated", text,
                                re.IGNORECASE) else text


def _inputs(line: int, label: str, value: str, config: SegmentationConfig,
            problem: Report) -> None:
    key = label.lower()
    if "nrr" in key or "net revenue retention" in key:
        got = _percent(value)
        if got is None:
            problem(line, f'target NRR "{value}" is not a percentage (write e.g. 110%)')
        elif not 50 <= got <= 200:
            problem(line, f"target NRR {fmt(got)}% is outside 50-200% (net revenue "
                    "retention: 100% keeps the book's ARR, 110% grows it by a tenth)")
        else:
            _set(config, "target_nrr", got, line)
    elif key.startswith("current"):
        config.current_motion = _motion_text(value)
        config.lines["current_motion"] = line


def _percent(text: str) -> float | None:
    """`110%`, `110 %`, `110` or `1.1` (a ratio up to 3) as a percentage."""
    m = re.match(r"^\s*(?P<num>\d+(?:\.\d+)?)\s*(?P<pct>%)?", text)
    if m is None:
        return None
    value = float(m["num"])
    return value * 100 if not m["pct"] and value <= 3 else value


SETTINGS = {"health": _health, "expansion": _expansion, "movement": _movement,
            "mixed": _mixed, "inputs": _inputs}
