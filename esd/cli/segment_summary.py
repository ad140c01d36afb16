"""esd segment's terminal summary: one box of at most 40 lines (seed 002's output kit):
the tiers with their accounts, ARR, at-risk counts and staffing gap, the staffing
answer, the target NRR, whom to act on first, and where the snapshots went.

Printed only on a terminal (not with --quiet, nor when stdout is a pipe or a CI log).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from esd.format import usd
from esd.render.segmentation import state_line

if TYPE_CHECKING:
    from esd.app.segment import SegmentOutcome
    from esd.segment.model import AccountSegment, SegmentationResult

FIRST = 3  # accounts named under "save first" and "expand first"


def _gap(gap: int | None, word: bool = True) -> Text:
    if gap is None:
        return Text("—")
    if gap > 0:
        return Text(f"{gap} short" if word else str(gap), style="bold red")
    return Text(f"{-gap} spare" if gap < 0 else "0")


def _tiers(result: SegmentationResult) -> Table:
    """Fits 60 columns: short headers, and only the tier names wrap."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, padding=(0, 0, 0, 1))
    table.add_column("tier", min_width=9)
    for name in ("accts", "ARR", "risk", "HIGH", "CSMs", "need", "short"):
        table.add_column(name, justify="right", no_wrap=True)
    for cut, alloc in zip(result.tiers, result.allocation, strict=True):
        staffed = alloc.ratio is not None
        table.add_row(f"{cut.tier} {cut.name}", f"{cut.accounts:,}", usd(cut.arr),
                      Text(str(cut.at_risk), style="red" if cut.at_risk else ""),
                      str(cut.high_potential), str(alloc.csms) if staffed else "auto",
                      str(alloc.needed) if staffed else "—", _gap(alloc.gap, word=False))
    return table


def _named(accounts: list[AccountSegment]) -> list[Text]:
    return [Text(f"  • {a.name} — Tier {a.tier}, {usd(a.arr)}, {a.health_band}, "
                 f"{a.expansion_potential}") for a in accounts[:FIRST]]


def summary(done: SegmentOutcome) -> Panel:
    """The box, as a rich renderable."""
    r = done.model
    total = sum(t.arr for t in r.tiers)
    gap = r.csms_gap
    staffing = Text(f"Staffing: needs {r.csms_needed} CSMs at the seed's ratios "
                    f"({r.csms_needed_by_accounts} by accounts per CSM alone); you have "
                    f"{r.csms}: ")
    staffing.append_text(_gap(gap) if gap else Text("none short"))
    lines: list = [
        Text(f"{len(r.accounts):,} accounts · {usd(total)} ARR · {r.csms} CSMs"),
        Text(f"Target NRR {r.target_nrr:g}% ({r.stance} plays): add "
             f"{usd(r.expansion_needed)} ARR, net, in a year"),
        _tiers(r), staffing]
    save = [a for a in r.accounts if a.play == "save"]
    expand = [a for a in r.accounts if a.play == "expand"]
    if save:
        lines += [Text(f"Save first ({len(save)} at risk, {usd(r.at_risk_arr)}):"),
                  *_named(save)]
    if expand:
        lines += [Text(f"Expand first ({len(expand)} with a proactive play, "
                       f"{usd(r.expand_arr)}):"), *_named(expand)]
    lines.append(Text(f"Snapshots: {state_line(r)}", style="dim"))
    return Panel(Group(*lines), box=box.ROUNDED, title_align="left",
                 title=f"Customer segmentation · {r.as_of.date()} ({r.quarter})")


def print_segmentation(done: SegmentOutcome, console: Console) -> None:
    console.print(summary(done))
    console.print(f"Wrote segmentation.md, segmentation.json and segmentation.html to "
                  f"{done.out}/", soft_wrap=True)
    extraction = done.extraction
    if extraction.model:
        console.print(f"Signals from Claude ({extraction.model}): {extraction.requests} "
                      f"requests, ${extraction.cost_usd:.2f} at list prices.")
