"""Output folders (contract §7): the `.esd-output.json` marker, refusal of foreign
folders, and crash safety under SIGKILL at many points of a write."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from esd.delivery.folder import MARKER, _clean_stale, write_atomically
from esd.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
OLD = {"a.md": "old a\n", "run.json": "{}\n"}
NEW = {"a.md": "new a\n", "b.md": "new b\n", "run.json": '{"n": 2}\n'}


def content(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in folder.iterdir() if p.name != MARKER}


def siblings(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name != out.name)


def test_writes_the_marker_listing_every_file(tmp_path):
    out = tmp_path / "digests"
    write_atomically(out, NEW)
    assert content(out) == NEW
    assert json.loads((out / MARKER).read_text()) == {"tool": "esd", "files": sorted(NEW)}
    assert siblings(out) == []


def test_replaces_its_own_folder_and_an_empty_one(tmp_path):
    out = tmp_path / "digests"
    out.mkdir()
    write_atomically(out, OLD)
    (out / "a.md").unlink()  # a listed file the user removed is no obstacle
    write_atomically(out, NEW)
    assert content(out) == NEW
    assert siblings(out) == []


@pytest.mark.parametrize("foreign", ["run.json", "id_rsa", ".hidden"])
def test_refuses_a_folder_that_holds_a_file_esd_did_not_write(tmp_path, foreign):
    out = tmp_path / ".ssh"
    out.mkdir()
    (out / foreign).write_text("secret")
    with pytest.raises(InputError) as caught:
        write_atomically(out, NEW)
    assert foreign in str(caught.value) and str(out) in str(caught.value)
    assert caught.value.exit_code == 2
    assert content(out) == {foreign: "secret"}
    assert siblings(out) == []


def test_refuses_an_esd_folder_with_an_added_file_or_folder(tmp_path):
    out = tmp_path / "digests"
    write_atomically(out, OLD)
    (out / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="notes.txt"):
        write_atomically(out, NEW)
    (out / "notes.txt").unlink()
    (out / "a.md").unlink()
    (out / "a.md").mkdir()  # listed name, but a folder: esd never wrote that
    with pytest.raises(InputError, match="a.md"):
        write_atomically(out, NEW)
    assert (out / "a.md").is_dir()


def test_refuses_a_marker_of_another_tool(tmp_path):
    out = tmp_path / "digests"
    out.mkdir()
    (out / MARKER).write_text(json.dumps({"tool": "other", "files": []}))
    with pytest.raises(InputError, match=MARKER):
        write_atomically(out, NEW)
    assert (out / MARKER).is_file()


def test_stale_staging_loses_only_its_listed_files(tmp_path):
    out = tmp_path / "digests"
    stale = tmp_path / ".digests.esd-999999999-dead"  # no such process
    stale.mkdir()
    (stale / MARKER).write_text(json.dumps({"tool": "esd", "files": ["a.md"]}))
    (stale / "a.md").write_text("half")
    empty = tmp_path / ".digests.esd-999999998-beef"
    empty.mkdir()
    kept = tmp_path / ".digests.esd-999999997-cafe"
    kept.mkdir()
    (kept / "mine.txt").write_text("not esd's")
    write_atomically(out, NEW)
    assert not stale.exists() and not empty.exists()
    assert (kept / "mine.txt").read_text() == "not esd's"
    assert content(out) == NEW


KILLER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from esd.delivery import folder

    out, kill_at = Path(sys.argv[1]), int(sys.argv[2])
    if sys.argv[3] == "fallback":  # a system without an atomic folder swap
        folder._exchange = lambda a, b: False
    files = {"a.md": "new a\\n", "b.md": "new b\\n", "run.json": '{"n": 2}\\n'}
    lines = 0

    def tracer(frame, event, arg):
        global lines
        if frame.f_code.co_filename != folder.__file__:
            return None
        if event == "line":
            lines += 1
            if lines == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
        return tracer

    sys.settrace(tracer)
    folder.write_atomically(out, files)
    sys.settrace(None)
    print(lines)
""")


def run_killer(out: Path, kill_at: int, swap: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", KILLER, str(out), str(kill_at), swap],
                          capture_output=True, text=True, env=env, timeout=60)


@pytest.mark.parametrize("swap", ["atomic", "fallback"])
def test_a_killed_write_leaves_the_old_or_the_new_folder(tmp_path, swap):
    out = tmp_path / "digests"
    (tmp_path / "neighbour.txt").write_text("keep")
    write_atomically(out, OLD)
    whole = run_killer(out, 0, swap)  # never killed: how many lines a write runs
    assert whole.returncode == 0, whole.stderr
    total = int(whole.stdout)
    assert content(out) == NEW
    points = sorted({1, 2, total - 1, total, *range(3, total, max(1, total // 24))})
    outcomes = set()
    for kill_at in points:
        write_atomically(out, OLD)
        done = run_killer(out, kill_at, swap)
        assert done.returncode == -signal.SIGKILL, (kill_at, done.stderr)
        if swap == "fallback":  # killed between its two renames: the next write repairs
            _clean_stale(out)
        assert out.is_dir(), kill_at
        now = content(out)
        assert now in (OLD, NEW), (kill_at, now)
        outcomes.add("new" if now == NEW else "old")
        listed = json.loads((out / MARKER).read_text())["files"]
        assert sorted(listed) == sorted(now), kill_at
        write_atomically(out, {"c.md": "third\n"})  # the next write cleans up
        assert content(out) == {"c.md": "third\n"}
        assert siblings(out) == ["neighbour.txt"], kill_at
    assert outcomes == {"old", "new"}  # the kill points straddle the swap
