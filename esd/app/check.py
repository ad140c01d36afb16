"""esd check: lint the reference files, and the inputs against them (contract §4)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from esd.app.inputs import live
from esd.connectors.files import ACCOUNTS, load_portfolio
from esd.errors import InputError
from esd.references import parse_references
from esd.references.lint import lint
from esd.references.schema import Problem


@dataclass
class CheckResult:
    references: Path
    problems: list[Problem]

    @property
    def exit_code(self) -> int:
        return 2 if self.problems else 0


def check(references: Path, input_dir: Path | None, env: Mapping[str, str] | None = None,
          toml: Mapping | None = None, config_path: Path | None = None) -> CheckResult:
    """Every parse problem and lint finding of the reference files (and of the inputs
    against them, with `input_dir`). Without `input_dir`, when Gainsight credentials are
    set, also the Gainsight object and field mapping of esd.toml (describe API).
    Inputs that cannot be read raise InputError; an unreachable Gainsight, SourceError."""
    if not references.is_dir():
        raise InputError(f"{references}: reference folder not found", file=str(references))
    refs, problems = parse_references(references)
    if refs is None:
        return CheckResult(references, problems)
    accounts = load_portfolio(input_dir).accounts if input_dir else None
    problems += lint(refs, accounts, input_dir / ACCOUNTS if input_dir else None)
    env = os.environ if env is None else env
    if input_dir is None and env.get("GAINSIGHT_URL") and env.get("GAINSIGHT_TOKEN"):
        where = str(config_path or "esd.toml")
        problems += [Problem(file=where, line=0, message=m)
                     for m in live().gainsight_mapping_problems(env, toml or {})]
    return CheckResult(references, problems)
