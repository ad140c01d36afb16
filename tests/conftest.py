from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The tests' own reference files: a frozen copy of the root references/*.md, so a CS-Ops
# lead's edit to the root files (which are theirs to change) never breaks a test. Keep this
# folder to the .md files the loader reads. Tests that check the shipped defaults themselves
# read them through `esd.defaults.defaults_dir() / "references"` (where `esd init` copies
# from) and assert only that they parse clean or are copied exactly, never on their content.
TEST_REFS = Path(__file__).resolve().parent / "data" / "references"
sys.path.insert(0, str(Path(__file__).parent))

if TYPE_CHECKING:
    from fakes.server import FakeAPI


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch, tmp_path):
    """No ESD_* setting, proxy or stray .env/esd.toml leaks into a test."""
    for name in list(os.environ):
        if name.startswith("ESD_") or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ESD_STATE", str(tmp_path / "esd-state.db"))
    monkeypatch.chdir(tmp_path)
    yield
    # The CLI installs its own stderr handler on the "esd" logger; undo it so later
    # tests (caplog) see esd's records again.
    logger = logging.getLogger("esd")
    logger.handlers.clear()
    logger.propagate = True
    logger.setLevel(logging.NOTSET)


def fake_fixture(factory: Callable[[], FakeAPI], scope: str = "module"):
    """A fixture serving `factory()` on 127.0.0.1 for `scope`; assign it to the fixture's
    name (`api = fake_fixture(FakeGainsight)`). `_reset_fakes` resets it before each test."""
    from fakes.server import serving

    @pytest.fixture(scope=scope)
    def served():
        api = factory()
        with serving(api):
            yield api
    return served


@pytest.fixture(autouse=True)
def _reset_fakes():
    """Scenario knobs and request logs never leak from one test into the next."""
    from fakes.server import SERVED

    for api in SERVED:
        api.reset()


@pytest.fixture(scope="session")
def refs():
    from esd.references import load_references

    return load_references(TEST_REFS)


def make_golive_refs(tmp_path: Path) -> Path:
    """A copy of TEST_REFS as a team would hold them going live: the demo's example.com
    links pointed at a host of its own and the `{your_next_sku}` stub sections deleted,
    so `esd check` on it reports only what a test plants (on TEST_REFS themselves it
    reports those links and stubs, contract §4)."""
    import re

    folder = tmp_path / "golive-refs"
    folder.mkdir(exist_ok=True)
    stub = re.compile(r"^#+ SKU: \{your_next_sku\}\n.*?(?=^#)", re.M | re.S)
    for path in TEST_REFS.glob("*.md"):
        text = stub.sub("", path.read_text(encoding="utf-8"))
        text = text.replace("https://lumen.example.com/", "https://wiki.lumen.internal/")
        (folder / path.name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def golive_refs(tmp_path) -> Path:
    return make_golive_refs(tmp_path)


@pytest.fixture(scope="session")
def postgres():
    from pg import PostgresServer, server_bin

    bin_dir = server_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries not installed (Debian package postgresql; "
                    ".ci/run installs it)")
    server = PostgresServer(bin_dir)
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def state_target(request, tmp_path):
    """Each state test runs on a SQLite file and on a real PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "esd-state.db")
    return request.getfixturevalue("postgres").new_database()
