"""The distribution: its own name on the package index (`esd` there is an unrelated
project), the `esd` command, and the files `esd init` writes, carried inside the wheel so
that a plain `pip install esd-signals` (or `pip install git+https://…`, which builds the
same wheel from the repository) can scaffold a team's repository."""

from __future__ import annotations

import email
import subprocess
import sys
import zipfile

from conftest import ROOT

import esd
from esd.app.init import DISTRIBUTION, planned
from esd.defaults import defaults_dir

NAME = "esd-signals"


def test_wheel_is_esd_signals_with_the_esd_command_and_init_works_from_it(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path / "dist"), str(ROOT)],
        check=True, capture_output=True,
    )
    [wheel] = (tmp_path / "dist").glob("*.whl")
    assert wheel.name == f"esd_signals-{esd.__version__}-py3-none-any.whl"
    archive = zipfile.ZipFile(wheel)
    names = set(archive.namelist())
    info = f"esd_signals-{esd.__version__}.dist-info"
    metadata = email.message_from_bytes(archive.read(f"{info}/METADATA"))
    assert (metadata["Name"], metadata["Version"]) == (NAME, esd.__version__)
    assert DISTRIBUTION == NAME  # what requirements.txt of a team repository pins
    entry_points = archive.read(f"{info}/entry_points.txt").decode()
    assert "[console_scripts]\nesd = esd.cli:app" in entry_points
    for name in ("references/1-expansion-signal-taxonomy.md",
                 "references/2-segment-baseline-config.md", "references/3-action-library.md",
                 "templates/digest.md.j2", ".env.example", "warehouse/accounts.sql",
                 "warehouse/data/accounts.csv", "scaffold/esd.toml.j2",
                 "scaffold/requirements.txt.j2", "scaffold/README.md", "scaffold/gitignore",
                 "scaffold/.github/workflows/weekly.yml", "scaffold/.github/workflows/ci.yml",
                 "scaffold/references/1-expansion-signal-taxonomy.md"):
        assert f"esd/_defaults/{name}" in names, name
    site = tmp_path / "site"
    archive.extractall(site)
    target = tmp_path / "team"
    result = subprocess.run(
        [sys.executable, "-c", "from esd.cli import app; app()", "init", str(target),
         "--warehouse"],
        cwd=tmp_path, env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    # From the wheel, exactly what a source checkout writes.
    expected = planned(defaults_dir(), warehouse=True)
    written = {p.relative_to(target) for p in target.rglob("*") if p.is_file()}
    assert written == set(expected)
    for rel, content in expected.items():
        assert (target / rel).read_bytes() == content, rel
    assert (target / "requirements.txt").read_text().splitlines()[-1] == \
        f"{NAME}=={esd.__version__}"
