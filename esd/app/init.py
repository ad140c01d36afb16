"""esd init DIR: scaffold a team's own repository (contract §1).

From the package defaults (`esd.defaults.defaults_dir()`; pyproject force-includes them
into the wheel), DIR gets:

    references/          the four reference files, with `<FILL: …>` markers where only the
                         team knows the value: `esd check` reports each one left
    templates/           the built-in digest and segmentation templates, to restyle
    esd.toml             every key esd reads, commented out at its default
    requirements.txt     esd-signals pinned to this release; both workflows install it
    .github/workflows/   weekly.yml (esd run and esd report every Monday), ci.yml (esd check)
    README.md, .env.example, .gitignore
    warehouse/           with `warehouse`: one SQL query per record kind, commented with
                         the columns esd expects, runnable with DuckDB over example CSV
                         files; esd.toml then reads them (usage_source = "warehouse")

Nothing is overwritten without `force`. Files ending in `.j2` under scaffold/ are
rendered (the version, the warehouse choice); every other file is copied as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from esd import __version__
from esd.defaults import defaults_dir
from esd.errors import InputError

DISTRIBUTION = "esd-signals"  # the name on the package index; the command is `esd`
RENAMED = {"gitignore": ".gitignore"}  # a .gitignore inside scaffold/ would hide files


@dataclass
class InitResult:
    target: Path
    written: list[Path]
    next_steps: list[str] = field(default_factory=list)
    exit_code: int = 0


def init(target: Path, force: bool = False, warehouse: bool = False) -> InitResult:
    """Write the team repository into `target` (see the module docstring)."""
    files = planned(defaults_dir(), warehouse)
    existing = [rel for rel in files if (target / rel).exists()]
    if existing and not force:
        raise InputError("esd init would overwrite " + ", ".join(
            str(target / rel) for rel in existing) + " (pass --force to replace them)")
    for rel, content in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return InitResult(target, [target / rel for rel in files], next_steps(target, warehouse))


def planned(source: Path, warehouse: bool) -> dict[Path, bytes]:
    """Each file of the team repository (path relative to it) and its content."""
    files: dict[Path, bytes] = {}
    scaffold = source / "scaffold"
    env = jinja2.Environment(keep_trailing_newline=True, undefined=jinja2.StrictUndefined,
                             autoescape=False)
    for path in sorted(p for p in scaffold.rglob("*") if p.is_file()):
        rel = path.relative_to(scaffold)
        rel = rel.with_name(RENAMED.get(rel.name, rel.name))
        if rel.suffix == ".j2":
            text = env.from_string(path.read_text(encoding="utf-8")).render(
                version=__version__, distribution=DISTRIBUTION, warehouse=warehouse)
            files[rel.with_suffix("")] = text.encode("utf-8")
        else:
            files[rel] = path.read_bytes()
    for path in sorted((source / "templates").glob("*.j2")):
        files[Path("templates", path.name)] = path.read_bytes()
    files[Path(".env.example")] = (source / ".env.example").read_bytes()
    if warehouse:
        queries = source / "warehouse"
        for path in sorted(queries.rglob("*")):
            if path.suffix in (".sql", ".csv"):
                files[Path("warehouse") / path.relative_to(queries)] = path.read_bytes()
    return files


def next_steps(target: Path, warehouse: bool) -> list[str]:
    """The three things to do after `esd init`, in order."""
    check = ("ESD_WAREHOUSE_URL=duckdb:///:memory: esd check" if warehouse else "esd check")
    return [
        f"Fill in every <FILL: …> in {target / 'references'} (your SKUs, phrases, segments, "
        f"playbook links): `cd {target} && {check}` lists each one left with its file:line.",
        "Make it your team's private repository: `git init && git add . && git commit -m "
        "'esd init'`, then push it to a new private GitHub repository.",
        "Go live: add the secrets and variables README.md lists under \"Going live\", run "
        "the \"Weekly digests\" workflow by hand with dry_run ticked, read the digests "
        "artifact, then let Monday's run send them.",
    ]
