"""The wheel carries the team-editable defaults, so a pip-installed esd can `esd init`."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from conftest import ROOT

from esd.defaults import defaults_dir


def test_wheel_ships_defaults_and_init_works_from_it(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path / "dist"), str(ROOT)],
        check=True, capture_output=True,
    )
    [wheel] = (tmp_path / "dist").glob("esd-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("references/1-expansion-signal-taxonomy.md",
                 "references/2-segment-baseline-config.md", "references/3-action-library.md",
                 "templates/digest.md.j2", ".env.example", "warehouse/accounts.sql",
                 "warehouse/data/accounts.csv", "warehouse/esd.toml"):
        assert f"esd/_defaults/{name}" in names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    target = tmp_path / "team"
    result = subprocess.run(
        [sys.executable, "-c", "from esd.cli import app; app()", "init", str(target),
         "--warehouse"],
        cwd=tmp_path, env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    shipped = sorted((defaults_dir() / "references").glob("*.md"))
    assert shipped
    for path in shipped:  # copied exactly, whatever a lead has put in them
        assert (target / "references" / path.name).read_bytes() == path.read_bytes(), path.name
    assert (target / "templates" / "digest.md.j2").is_file()
    assert (target / "warehouse" / "usage_events.sql").is_file()
    assert (target / "esd.toml").read_bytes() == \
        (defaults_dir() / "warehouse" / "esd.toml").read_bytes()
