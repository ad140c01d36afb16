"""esd check: lint the reference files, and the inputs against them (contract §4)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from esd.app.inputs import live, slimmer
from esd.app.settings import parse_as_of
from esd.app.slack_users import SlackUsers, check_slack_users, live_accounts, slack_token
from esd.config import usage_source
from esd.connectors.files import InputFolder, raw_records, read_inputs
from esd.errors import InputError
from esd.extractors.transcript import no_customer_words, transcript_field
from esd.pipeline import make_window
from esd.pipeline.collect import unattributed_speech
from esd.references import FILES, SEGMENTATION, parse_references
from esd.references.lint import lint
from esd.references.placeholders import settle, unfilled
from esd.references.schema import Problem


@dataclass
class CheckResult:
    references: Path
    problems: list[Problem]
    queries_checked: int = 0  # warehouse queries run against the warehouse
    slack_users_checked: int | None = None  # CSMs looked up in Slack (None: not checked)

    @property
    def exit_code(self) -> int:
        return 2 if self.problems else 0


def check(references: Path, input_dir: Path | None, env: Mapping[str, str] | None = None,
          toml: Mapping | None = None, config_path: Path | None = None) -> CheckResult:
    """Every parse problem, unfilled placeholder, example link and lint finding of the
    reference files (and of the inputs against them, with `input_dir`). Without
    `input_dir`: from a warehouse (ESD_USAGE_SOURCE=warehouse), also its queries, run
    against it without reading a row; else, when Gainsight credentials are set, the
    Gainsight object and field mapping of esd.toml (describe API). Inputs that cannot be
    read raise InputError; an unreachable warehouse or Gainsight, SourceError."""
    if not references.is_dir():
        raise InputError(f"{references}: reference folder not found", file=str(references))
    refs, problems = parse_references(references)
    holes = unfilled(references, (*FILES, SEGMENTATION))  # <FILL: …>, example.com links
    if refs is None:
        return CheckResult(references, settle(problems, holes))
    # Calls are read slim, as a run reads them: only what the checks below need is kept
    # (a 10,000-account week held whole took 1 GB; issue 16).
    inputs = read_inputs(input_dir, slimmer(refs)) if input_dir else None
    problems += lint(refs, inputs.portfolio.accounts if inputs else None,
                     inputs.files["accounts"] if inputs else None)
    problems = settle(problems, holes)
    if inputs is not None:
        problems += input_problems(inputs)
    env = os.environ if env is None else env
    slack = _slack_users(inputs, env, toml or {})
    problems += slack.problems if slack else []
    if input_dir is None and usage_source(env, toml or {}) == "warehouse":
        window = make_window(parse_as_of(None), 7)  # any window: the queries read no row
        checked, found = live().warehouse_problems(env, toml or {}, window)
        problems += [Problem(file=file, line=line, message=message)
                     for file, line, message in found]
        return CheckResult(references, problems, checked,
                           slack.checked if slack else None)
    elif input_dir is None and env.get("GAINSIGHT_URL") and env.get("GAINSIGHT_TOKEN"):
        where = str(config_path or "esd.toml")
        problems += [Problem(file=where, line=0, message=m)
                     for m in live().gainsight_mapping_problems(env, toml or {})]
    return CheckResult(references, problems, slack_users_checked=slack.checked if slack
                       else None)


def _slack_users(inputs: InputFolder | None, env: Mapping[str, str], toml: Mapping
                 ) -> SlackUsers | None:
    """With SLACK_BOT_TOKEN set: the CSMs Slack cannot find (esd.app.slack_users), of
    the input files' accounts, else of the live usage source's when it is configured."""
    if not slack_token(env):
        return None
    if inputs is not None:
        accounts, where = inputs.portfolio.accounts, str(inputs.files["accounts"])
    else:
        accounts, where = live_accounts(env, toml), "accounts"
    return None if accounts is None else check_slack_users(accounts, env, toml, where)


def input_problems(inputs: InputFolder) -> list[Problem]:
    """What the inputs would lose without failing a run: speakers matching no attendee
    (by call and speaker), calls whose transcript holds no customer words, and owner
    emails that differ only by case (contract §2). A problem of a `.jsonl` or `.csv`
    file carries its line; one of a `.json` file, line 0 and the record's index."""
    calls = inputs.portfolio.calls
    calls_file = str(inputs.files["calls"])
    found = []
    for u in unattributed_speech(calls):
        call = calls[u.index]
        field = transcript_field(call)
        for speaker, n in u.speakers.items():
            found.append(Problem(file=calls_file, line=_line(inputs, "calls", u.index), message=(
                f"{inputs.where('calls', u.index)} (call_id {u.call_id}): field {field}: "
                f'speaker "{speaker}" matches no attendee: {n} utterance'
                f"{'s' if n != 1 else ''} not counted (add them to attendees, or fix the "
                "label)")))
    for i, call in enumerate(calls):
        if no_customer_words(call):
            field = transcript_field(call)
            found.append(Problem(file=calls_file, line=_line(inputs, "calls", i), message=(
                f"{inputs.where('calls', i)} (call_id {call.call_id}): field {field}: no "
                "customer words (no utterance is by a customer attendee): the call counts "
                "for coverage but can yield no mention")))
    return found + _owner_email_cases(inputs)


def _line(inputs: InputFolder, stem: str, index: int) -> int:
    lines = inputs.lines.get(stem)
    return lines[index] if lines is not None else 0


def _owner_email_cases(inputs: InputFolder) -> list[Problem]:
    # The loader lower-cases emails, so the spellings are read from the file itself.
    path = inputs.files["accounts"]
    word = inputs.word("accounts")
    try:
        records = list(raw_records(path))
    except (OSError, ValueError):
        return []
    first: dict[str, tuple[str, str]] = {}
    found = []
    for where, rec in records:
        email = rec.get("owner_email") if isinstance(rec, dict) else None
        if not isinstance(email, str):
            continue
        email = email.strip()
        seen = first.setdefault(email.lower(), (where, email))
        if seen[1] != email:
            line = int(where.removeprefix("line ")) if where.startswith("line ") else 0
            found.append(Problem(file=str(path), line=line, message=(
                f'{where} (id {rec.get("id")}): {word} owner_email: "{email}" differs '
                f'only by case from "{seen[1]}" ({seen[0]}): both are one CSM; '
                "write it one way")))
    return found
