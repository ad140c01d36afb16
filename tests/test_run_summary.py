"""esd run's summary box: on a terminal, unless --quiet; never in CI (stdout not a
terminal) unless asked for; at most 40 lines whatever the team's size."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

from builders import account, call, write_portfolio
from conftest import ROOT, TEST_REFS, fake_fixture
from fakes import slack as slack_fake
from rich.console import Console
from test_run import AS_OF, CSMS, DEMO, REFS, env
from typer.testing import CliRunner

from esd.app.digest import dry_run
from esd.app.settings import Settings, parse_as_of
from esd.cli import app
from esd.cli.summary import MAX_LINES, run_summary
from esd.delivery.ledger import Outcome

slack = fake_fixture(lambda: slack_fake.FakeSlack(CSMS), scope="function")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def on_a_terminal(args: list[str], extra_env: dict[str, str], cwd: Path
                  ) -> tuple[int, str, str]:
    """`esd ARGS` with stdout on a pseudo-terminal (100 columns), stderr on a pipe:
    exit code, what the terminal showed, stderr."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 100, 0, 0))
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ESD_")}
    environ.update(extra_env, PYTHONPATH=str(ROOT), TERM="xterm-256color", COLUMNS="100")
    proc = subprocess.Popen([sys.executable, "-m", "esd.cli", *args], stdin=slave,
                            stdout=slave, stderr=subprocess.PIPE, env=environ, cwd=cwd)
    os.close(slave)
    shown = bytearray()
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    with proc.stderr:
        stderr = proc.stderr.read().decode()
    code = proc.wait(timeout=120)
    os.close(master)
    return code, ANSI.sub("", shown.decode()).replace("\r\n", "\n"), stderr


def run_args(state: Path, *extra: str) -> list[str]:
    return ["run", "--input-dir", str(DEMO), "--references", str(REFS), "--as-of", AS_OF,
            "--state", str(state), *extra]


def test_the_summary_box_is_shown_on_a_terminal(slack, tmp_path):
    code, shown, stderr = on_a_terminal(run_args(tmp_path / "s.db"), env(slack), tmp_path)
    assert code == 0, stderr
    lines = shown.rstrip("\n").split("\n")
    assert len(lines) <= MAX_LINES
    assert lines[0].startswith("esd run · week ending 2026-11-23")
    assert lines[1].startswith("╭") and "CSM" in lines[2] and "delivery" in lines[2]
    rows = [line for line in lines if line.startswith("│") and "@lumen.example.com" in line]
    assert [row.split("│")[1].strip() for row in rows] == CSMS
    assert all("✓ sent" in row for row in rows)
    ana = next(row for row in rows if "ana.ruiz" in row)
    assert [c.strip() for c in ana.split("│")[3:6]] == ["3", "2", "2"]  # strong, weak, capped
    assert "6 delivered · 0 missed │ 10 strong · 2 over the cap · 20 weak" in shown
    assert "call coverage 75.2% of 214 accounts │ cost no model cost (rules)" in shown
    assert lines[-1] == "Sent 6 digests for the week ending 2026-11-23."


def test_quiet_on_a_terminal_shows_nothing(slack, tmp_path):
    code, shown, stderr = on_a_terminal(run_args(tmp_path / "s.db", "--quiet"), env(slack),
                                        tmp_path)
    assert code == 0, stderr
    assert shown == ""
    assert len([m for e in CSMS for m in slack.messages_to(e)]) > 6  # it did run


def test_ci_gets_nothing_extra(slack, tmp_path):
    result = CliRunner().invoke(app, run_args(tmp_path / "s.db"), env=env(slack))
    assert result.exit_code == 0, result.output
    assert result.output == ""  # stdout is no terminal: quiet unless --no-quiet


def test_a_large_team_stays_within_forty_lines_missed_first(tmp_path):
    owners = [f"csm{i:02d}@x.example" for i in range(60)]
    folder = write_portfolio(
        tmp_path / "in", [account(f"a{i}", owner_email=o) for i, o in enumerate(owners)],
        calls=[call(f"a{i}", f"c{i}", [("Dana Lee", "Hello.")]) for i in range(60)])
    done = dry_run(Settings(input_dir=folder, references=TEST_REFS,
                            as_of=parse_as_of(AS_OF)), None)
    done.delivery = Outcome(sent=owners[:-1], missed=[(owners[-1], "users_not_found")])
    console = Console(file=io.StringIO(), width=100, record=True)
    console.print(run_summary(done))
    text = console.export_text()
    lines = text.rstrip("\n").split("\n")
    assert len(lines) <= MAX_LINES - 1  # and the "Sent ..." line after it
    rows = [line for line in lines if "@x.example" in line]
    assert "csm59@x.example" in rows[0] and "✗ missed" in rows[0]
    assert any("… 36 more CSMs" in line for line in lines)
    assert "59 delivered · 1 missed" in text
