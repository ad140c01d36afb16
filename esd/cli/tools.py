"""The team's other commands: esd segment, esd eval, esd check and esd init.

Each imports its use case when it runs (see `weekly`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from esd.app.settings import Settings
from esd.cli.app import app, exit_with
from esd.cli.options import (
    DATA,
    AsJson,
    InputDir,
    Quiet,
    References,
    shared,
)
from esd.cli.output import (
    err_console,
    fail,
    is_quiet,
    out_console,
)
from esd.errors import EsdError


@app.command()
@shared(*DATA, "model", "batch", "max_cost", templates=(Annotated[Path | None, typer.Option(
    "--templates", envvar="ESD_TEMPLATES", file_okay=False,
    help="Folder with segmentation.md.j2 (default ./templates if present, else the "
    "built-in one).")], None), extractor=(Annotated[str, typer.Option(
        "--extractor", envvar="ESD_EXTRACTOR", metavar="rules|claude|auto",
        help="Where this week's signals come from (expansion potential). Default rules: "
        "no model cost; claude reuses the answers the weekly run cached.")], "rules"))
def segment(
    ctx: typer.Context,
    settings: Settings,
    out: Annotated[Path, typer.Option(
        "--out", envvar="ESD_SEGMENT_OUT", file_okay=False,
        help="Folder for segmentation.md, segmentation.json and segmentation.html.")]
    = Path("segmentation"),
    csms: Annotated[int | None, typer.Option(
        "--csms", envvar="ESD_CSMS", min=0,
        help="CSM headcount to allocate (default: the owners in accounts.json).")] = None,
    state: Annotated[str | None, typer.Option(
        "--state", envvar="ESD_STATE", metavar="PATH|URL",
        help="Where quarterly snapshots are kept (created if need be). Without it, "
        "./esd-state.db if it exists; esd segment never creates that one unasked.")] = None,
    no_state: Annotated[bool, typer.Option(
        "--no-state", help="Neither read nor record quarterly snapshots (no movers).")]
    = False,
    target_nrr: Annotated[float | None, typer.Option(
        "--target-nrr", envvar="ESD_TARGET_NRR", metavar="PERCENT", min=50, max=200,
        help="Target net revenue retention, e.g. 115: how far proactive expansion plays "
        "reach (default: 4-segmentation.md's Target NRR, else 110).")] = None,
    quiet: Quiet = None,
) -> None:
    """The customer segmentation model: tiers calibrated to the ARR distribution, health,
    expansion potential, CS motion and CSM allocation per tier, and tier movers.

    Writes OUT/segmentation.md, OUT/segmentation.json and OUT/segmentation.html (one
    self-contained page with charts): each tier's accounts in the order to act on them,
    and the CSMs the book needs at the seed's ratios against the CSMs it has. With a
    state store (--state, or an existing ./esd-state.db) it records this quarter's
    snapshot of every account; earlier quarters drive the promotion and demotion rules.
    On a terminal it prints a one-box summary.

    Example usage:

        esd segment --input-dir examples/portfolio --as-of 2026-11-23 --out segmentation
        esd segment --target-nrr 115 --state esd-state.db --out segmentation
    """
    from esd.app import segment as segment_app
    from esd.cli.segment_summary import print_segmentation

    try:
        done = segment_app.segment(settings, out, state, not no_state, csms,
                                   target_nrr=target_nrr)
    except EsdError as exc:
        fail(exc)
    if not is_quiet(quiet):
        print_segmentation(done, out_console)


@app.command("eval")
@shared("references", "extractor", "model", "max_cost", batch=False)
def eval_(
    ctx: typer.Context,
    settings: Settings,
    gold: Annotated[Path, typer.Option(
        "--gold", envvar="ESD_GOLD", file_okay=False,
        help="Folder with the input files, labels.json and optionally references/.")],
    as_json: AsJson = False,
) -> None:
    """Score an extractor against labeled sentences: precision and recall per SKU and for
    not_signal, and the prefilter's recall and token share.

    Example usage:

        esd eval --gold examples/gold --extractor rules
        esd eval --gold examples/gold --extractor claude --json
    """
    from esd.app import evaluate

    try:
        done = evaluate.run_eval(settings, gold)
    except EsdError as exc:
        fail(exc)
    if as_json:
        print(json.dumps(done.to_json(), indent=2))
        return
    out_console.print(done.text(), soft_wrap=True)
    if done.cost:
        out_console.print(f"Claude ({done.cost['model']}): {done.cost['requests']} requests, "
                          f"${done.cost['cost_usd']:.2f} at list prices.")


@app.command()
def check(
    ctx: typer.Context,
    references: References = Path("references"),
    input_dir: InputDir = None,
    as_json: AsJson = False,
) -> None:
    """Lint the reference files, and with --input-dir the inputs against them.

    Errors: unparsable rows, an unfilled placeholder (the <FILL: …> markers of esd init,
    {link}, {YYYY-MM-DD}, a SKU: {your_next_sku} stub), a link to an example.com host,
    a SKU without action rows, an action that fails the
    vague-language filter, a call trigger that can never fire, an account segment with
    no baseline. Without --input-dir: with ESD_USAGE_SOURCE=warehouse, also the queries
    of esd.toml [warehouse], each run against the warehouse without reading a row
    (missing or extra columns, anything but one SELECT); else, with Gainsight
    credentials set, the Gainsight object and field names of esd.toml, checked with
    Gainsight's describe API. With SLACK_BOT_TOKEN set, also every CSM (account
    owner) Slack cannot find by email or through esd.toml [slack.users]. Exits 2 if
    there is any problem, 4 if the warehouse, Gainsight or Slack cannot be reached.

    Example usage:

        esd check
        esd check --references references --input-dir pulled
    """
    from esd.app import check as check_app

    try:
        done = check_app.check(references, input_dir, toml=ctx.obj or {})
    except EsdError as exc:
        fail(exc)
    problems = done.problems
    if as_json:
        print(json.dumps({"ok": not problems,
                          "problems": [p.model_dump() for p in problems]}, indent=2))
    else:
        for p in problems:
            err_console.print(str(p), markup=False, soft_wrap=True)
        if not problems:
            out_console.print(f"{references}: reference files OK")
            if done.queries_checked:
                out_console.print(f"Warehouse: {done.queries_checked} queries OK (each run "
                                  "against the warehouse, no row read)")
            if done.slack_users_checked is not None:
                out_console.print(f"Slack: all {done.slack_users_checked} CSMs found")
        else:
            err_console.print(f"{len(problems)} problem(s) found", markup=False)
    exit_with(done.exit_code)


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Where to scaffold.", file_okay=False)]
    = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
    warehouse: Annotated[bool, typer.Option(
        "--warehouse", help="Read accounts, usage events, stakeholder changes and health "
        "from SQL: also warehouse/, one query per record kind commented with the columns "
        "esd expects (runnable with DuckDB over example CSV files), and an esd.toml that "
        "reads them.")] = False,
) -> None:
    """Scaffold a team's own repository into DIRECTORY: the reference files with
    <FILL: …> placeholders to fill (esd check lists each one left), templates/,
    esd.toml with every key commented, .env.example, requirements.txt pinning this
    esd release, .github/workflows/ (weekly.yml: esd run and esd report every Monday;
    ci.yml: esd check on every push) and a README. Never overwrites a file without
    --force.

    Example usage:

        esd init my-cs-team && cd my-cs-team && esd check
        esd init my-cs-team --warehouse && cd my-cs-team &&
            ESD_WAREHOUSE_URL=duckdb:///:memory: esd check
    """
    from esd.app import init as init_app

    try:
        done = init_app.init(directory, force=force, warehouse=warehouse)
    except EsdError as exc:
        fail(exc)
    for path in done.written:
        out_console.print(f"wrote {path}", markup=False, soft_wrap=True)
    out_console.print("\nNext steps:", markup=False)
    for number, step in enumerate(done.next_steps, start=1):
        out_console.print(f"  {number}. {step}", markup=False, soft_wrap=True)
