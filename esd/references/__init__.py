"""The team's reference files: parse, validate, and load them as one References model."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

from esd.errors import InputError
from esd.references.actions import parse_actions
from esd.references.baselines import parse_baselines
from esd.references.schema import Problem, References
from esd.references.segmentation import parse_segmentation
from esd.references.segmentation_defaults import default_config
from esd.references.taxonomy import parse_taxonomy

TAXONOMY = "1-expansion-signal-taxonomy.md"
BASELINES = "2-segment-baseline-config.md"
ACTIONS = "3-action-library.md"
SEGMENTATION = "4-segmentation.md"  # optional: without it, the seed's defaults
FILES = (TAXONOMY, BASELINES, ACTIONS)


def parse_references(directory: Path) -> tuple[References | None, list[Problem]]:
    """Parse the three files, and 4-segmentation.md when present; the References is None
    when one of the three is missing."""
    missing = [name for name in FILES if not (directory / name).is_file()]
    if missing:
        return None, [Problem(file=str(directory / name), line=0, message="file not found")
                      for name in missing]
    git = _start_last_commit(directory / TAXONOMY)  # git runs while the files are parsed
    try:
        taxonomy, p1 = parse_taxonomy(directory / TAXONOMY)
        baselines, p2 = parse_baselines(directory / BASELINES)
        actions, p3 = parse_actions(directory / ACTIONS)
    finally:
        taxonomy_commit = _last_commit(git)
    taxonomy.last_commit = taxonomy_commit
    refs = References(directory=directory, taxonomy=taxonomy, baselines=baselines,
                      actions=actions)
    p4: list[Problem] = []
    if (directory / SEGMENTATION).is_file():
        refs.segmentation, p4 = parse_segmentation(directory / SEGMENTATION)
    return refs, [*p1, *p2, *p3, *p4]


def load_references(directory: Path, segmentation_required: bool = True) -> References:
    """The parsed reference files, or InputError (exit 2) listing every problem.

    With `segmentation_required` False (the weekly digest, which only borrows tier and
    health band labels from it), problems in the optional 4-segmentation.md do not stop
    the run: the seed's defaults stand in, and `refs.segmentation_problems` says why."""
    if not directory.is_dir():
        raise InputError(f"{directory}: reference folder not found "
                         "(pass --references DIR, or create one with `esd init .`)")
    refs, problems = parse_references(directory)
    if refs is not None and not segmentation_required:
        own = [p for p in problems if Path(p.file).name == SEGMENTATION]
        if own:
            refs.segmentation = default_config()
            refs.segmentation_problems = [str(p) for p in own]
            problems = [p for p in problems if p not in own]
    if problems or refs is None:
        lines = [str(p) for p in problems]
        raise InputError("reference files cannot be parsed:\n  " + "\n  ".join(lines), lines)
    return refs


def last_commit(path: Path) -> datetime | None:
    """When git last committed `path`, or None outside a repository or without git."""
    return _last_commit(_start_last_commit(path))


def _start_last_commit(path: Path) -> subprocess.Popen[str] | None:
    try:
        return subprocess.Popen(["git", "log", "-1", "--format=%cI", "--", path.name],
                                cwd=path.parent, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
    except OSError:
        return None


def _last_commit(git: subprocess.Popen[str] | None) -> datetime | None:
    if git is None:
        return None
    try:
        out = git.communicate(timeout=10)[0].strip()
    except subprocess.SubprocessError:
        git.kill()
        git.communicate()
        return None
    if git.returncode != 0 or not out:
        return None
    return datetime.fromisoformat(out).astimezone(UTC)
