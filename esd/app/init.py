"""esd init: scaffold a team's folder with the default reference files, templates and
.env.example; with `--warehouse`, also esd.toml reading accounts, usage events,
stakeholder changes and health from SQL (one query per kind, each commented with the
columns esd expects), runnable as it is with DuckDB over example CSV files."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from esd.defaults import defaults_dir
from esd.errors import InputError


@dataclass
class InitResult:
    written: list[Path]
    exit_code: int = 0


def init(target: Path, force: bool = False, warehouse: bool = False) -> InitResult:
    """Copy the default references/, templates/ and .env.example into `target` (and with
    `warehouse`, esd.toml and warehouse/: the queries and their example data)."""
    source = defaults_dir()
    pairs = [(source / "references" / p.name, target / "references" / p.name)
             for p in sorted((source / "references").glob("*.md"))]
    pairs += [(source / "templates" / p.name, target / "templates" / p.name)
              for p in sorted((source / "templates").glob("*.j2"))]
    pairs.append((source / ".env.example", target / ".env.example"))
    if warehouse:
        queries = source / "warehouse"
        pairs += [(p, target / "warehouse" / p.relative_to(queries))
                  for p in sorted(queries.rglob("*")) if p.suffix in (".sql", ".csv")]
        pairs.append((queries / "esd.toml", target / "esd.toml"))
    existing = [dst for _, dst in pairs if dst.exists()]
    if existing and not force:
        raise InputError("esd init would overwrite " + ", ".join(str(p) for p in existing)
                         + " (pass --force to replace them)")
    for src, dst in pairs:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    return InitResult([dst for _, dst in pairs])
