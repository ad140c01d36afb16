"""No credential leaves esd (contract §8): `esd pull` and `esd coverage` with `-v` against
the fake vendors, credentials set to distinctive values and base URLs carrying a
password in their user-info, one source failing. No secret may appear in stdout,
stderr, any file written, or any log record handed to a handler."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from conftest import ROOT
from fakes import gainsight as gs_fake
from fakes import gong as gong_fake
from fakes import helpscout as hs_fake
from fakes import intercom as ic_fake
from fakes.server import serving
from typer.testing import CliRunner

from esd.cli import app
from esd.cli.app import QUIET_LOGGERS

REFS = str(ROOT / "examples" / "portfolio" / "references")
AS_OF = "2026-11-23"
PASSWORD = "url-pa55word-q8z1"  # inside every base URL's user-info
SECRETS = [gong_fake.ACCESS_KEY, gong_fake.ACCESS_KEY_SECRET, gs_fake.TOKEN, ic_fake.TOKEN,
           hs_fake.APP_ID, hs_fake.APP_SECRET, PASSWORD]
TOML = """
[gong]
requests_per_second = 100000.0
[gainsight]
requests_per_minute = 6000000
[helpscout]
requests_per_minute = 6000000
[http]
backoff_seconds = 0.001
max_attempts = 2
"""


@pytest.fixture(scope="module")
def fakes():
    apis = {"gong": gong_fake.GongFake.portfolio(), "gainsight": gs_fake.FakeGainsight(),
            "intercom": ic_fake.FakeIntercom(ic_fake.demo_data()),
            "helpscout": hs_fake.FakeHelpScout(hs_fake.demo_data())}
    with serving(*apis.values()):
        yield apis


@pytest.fixture
def records(monkeypatch):
    """Every log record that reaches a logger's handlers, from any logger."""
    seen: list[logging.LogRecord] = []
    call_handlers = logging.Logger.callHandlers

    def record(self, rec):
        seen.append(rec)
        return call_handlers(self, rec)

    monkeypatch.setattr(logging.Logger, "callHandlers", record)
    yield seen
    for name in QUIET_LOGGERS:  # what the CLI set up for the process
        logger = logging.getLogger(name)
        logger.setLevel(logging.NOTSET)
        logger.filters.clear()


def with_password(url: str) -> str:
    return url.replace("http://", f"http://esd:{PASSWORD}@")


def env(fakes, tickets: str) -> dict[str, str]:
    base = {"GONG_BASE_URL": with_password(fakes["gong"].url),
            "GONG_ACCESS_KEY": gong_fake.ACCESS_KEY,
            "GONG_ACCESS_KEY_SECRET": gong_fake.ACCESS_KEY_SECRET,
            "GAINSIGHT_URL": with_password(fakes["gainsight"].url),
            "GAINSIGHT_TOKEN": gs_fake.TOKEN}
    return base | {
        "intercom": {"INTERCOM_URL": with_password(fakes["intercom"].url),
                     "INTERCOM_ACCESS_TOKEN": ic_fake.TOKEN},
        "helpscout": {"HELPSCOUT_URL": with_password(fakes["helpscout"].url),
                      "HELPSCOUT_APP_ID": hs_fake.APP_ID,
                      "HELPSCOUT_APP_SECRET": hs_fake.APP_SECRET},
    }[tickets]


def assert_no_secret(result, records: list[logging.LogRecord], folder: Path) -> None:
    texts = {"stdout": result.stdout, "stderr": result.stderr}
    texts |= {f"log {r.name}": r.getMessage() for r in records}
    texts |= {f"file {p}": p.read_bytes().decode("utf-8", "replace")
              for p in folder.rglob("*") if p.is_file()}
    leaks = [(where, secret) for where, text in texts.items() for secret in SECRETS
             if secret in text]
    assert leaks == []


@pytest.mark.parametrize("tickets", ["intercom", "helpscout"])
def test_pull_with_v_leaks_no_secret(fakes, records, tmp_path, tickets):
    (tmp_path / "esd.toml").write_text(TOML)
    result = CliRunner().invoke(app, ["-v", "pull", "--as-of", AS_OF, "--out",
                                      str(tmp_path / "out")], env=env(fakes, tickets))
    assert result.exit_code == 0, result.output
    assert "Gong POST /v2/calls/extensive -> 200" in result.stderr  # -v was on
    assert any((tmp_path / "out").iterdir())
    assert_no_secret(result, records, tmp_path)


def test_a_failing_source_leaks_no_secret(fakes, records, tmp_path):
    (tmp_path / "esd.toml").write_text(TOML)
    # Intercom asks for an hour's wait: a failure of that request, named, exit 4.
    fakes["intercom"].fail_next("/conversations/search", 429, headers={"Retry-After": "3600"})
    environment = env(fakes, "intercom")
    result = CliRunner().invoke(app, ["-v", "pull", "--as-of", AS_OF, "--out",
                                      str(tmp_path / "out")], env=environment)
    assert result.exit_code == 4
    assert "Intercom: POST /conversations/search" in result.output
    assert_no_secret(result, records, tmp_path)
    # Gong unreachable behind a URL with a password: coverage names it, never the URL's.
    environment["GONG_BASE_URL"] = f"http://esd:{PASSWORD}@127.0.0.1:9"
    result = CliRunner().invoke(app, ["-v", "coverage", "--references", REFS, "--as-of",
                                      AS_OF, "--json"], env=environment)
    assert result.exit_code == 4 and "connection failed" in result.stdout
    assert_no_secret(result, records, tmp_path)


def test_an_unreadable_answer_leaks_no_secret(fakes, records, tmp_path):
    (tmp_path / "esd.toml").write_text(TOML)
    fakes["gainsight"].fail_next("/v1/data/objects/query/Company", 200, body="null")
    result = CliRunner().invoke(app, ["-v", "coverage", "--references", REFS, "--as-of",
                                      AS_OF], env=env(fakes, "helpscout"))
    assert result.exit_code == 4
    assert "Gainsight: POST /v1/data/objects/query/Company answered 200 with null" \
        in result.output
    assert_no_secret(result, records, tmp_path)
