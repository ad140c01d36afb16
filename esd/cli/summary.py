"""esd run's summary on a terminal: one box-drawn table of what each CSM got, then the
week in two lines (delivered and missed, strong and weak, overflow, coverage, cost).
At most 40 lines, whatever the team's size; printed only when not quiet, so a CI log
or a pipe gets nothing extra (esd.cli.output.is_quiet)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.table import Table

from esd.cli.output import out_console

if TYPE_CHECKING:
    from esd.app.digest import DigestResult
    from esd.models import Digest

MAX_LINES = 40
MAX_ROWS = 25  # CSM rows; the box, its title and the two summary lines take the rest


def run_summary(done: DigestResult) -> Table:
    """The table: a row per CSM (missed ones first when they do not all fit)."""
    result, audience = done.run, done.audience
    status = statuses(done)
    title = f"esd run · week ending {result.as_of.date()}"
    if audience.preview_to:
        title += f" · preview to {audience.preview_to}"
    elif audience.only is not None:
        title += f" · pilot: {len(audience.only)} of {len(result.digests)} CSMs"
    table = Table(title=title, title_justify="left", box=box.ROUNDED, caption_justify="left",
                  caption=_totals(done))
    table.add_column("CSM", no_wrap=True, overflow="ellipsis", max_width=34)
    table.add_column("delivery", no_wrap=True)
    for column in ("strong", "weak", "capped"):
        table.add_column(column, justify="right", no_wrap=True)
    digests = sorted(result.digests, key=lambda d: (not status[d.owner_email].startswith("✗"),
                                                    d.owner_email))
    rows = digests if len(digests) <= MAX_ROWS else digests[:MAX_ROWS - 1]
    for d in rows:
        table.add_row(d.owner_email, status[d.owner_email], str(len(d.strong)),
                      str(len(d.weak)), str(d.overflow) if d.overflow else "·")
    if len(rows) < len(digests):
        table.add_row(f"… {len(digests) - len(rows)} more CSMs", "", "", "", "")
    return table


def statuses(done: DigestResult) -> dict[str, str]:
    """CSM email -> what happened to their digest, with a mark: ✓ sent (or
    previewed), = sent by an earlier run, ✗ missed, – not sent on purpose (left out by
    --only, or a CSM already delivered an overlapping window)."""
    outcome = done.delivery
    preview = done.audience.preview_to is not None
    sent = "✓ previewed" if preview else "✓ sent"
    status = {d.owner_email: "–" for d in done.run.digests}
    if outcome is None:
        return status
    for email in outcome.sent:
        status[email] = f"{sent} (resumed)" if email in outcome.resumed else sent
    for email in outcome.reconciled:
        status[email] = f"{sent} (in Slack)"
    for email in outcome.already_sent:
        status[email] = "= earlier run"
    for email, window in outcome.overlapped:
        status[email] = f"– overlaps {window.date()}"
    for email, _ in outcome.missed:
        status[email] = "✗ missed"
    for email in outcome.left_out:
        status[email] = "– left out"
    return status


def _totals(done: DigestResult) -> str:
    result, outcome = done.run, done.delivery
    digests: list[Digest] = result.digests
    strong = sum(len(d.strong) for d in digests)
    over = sum(d.overflow for d in digests)
    weak = sum(len(d.weak) for d in digests)
    sent = len(outcome.sent) + len(outcome.reconciled) if outcome else 0
    missed = len(outcome.missed) if outcome else 0
    x = result.diagnostics.extraction
    cost = (f"${x.cost_usd:.2f} ({x.model}, list prices)" if x.model
            else f"no model cost ({result.diagnostics.extractor})")
    verb = "previewed" if done.audience.preview_to else "delivered"
    return (f"{sent} {verb} · {missed} missed │ {strong} strong · {over} over the cap · "
            f"{weak} weak\ncall coverage {result.coverage_pct:.1f}% of "
            f"{result.diagnostics.accounts_in_scope} accounts │ cost {cost}")


def print_run_summary(done: DigestResult) -> None:
    """The summary table, at most MAX_LINES lines on the terminal."""
    out_console.print(run_summary(done), soft_wrap=False)
