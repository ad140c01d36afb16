"""Emails are one CSM whatever their case, and digest file names never collide (§2, §7)."""

from __future__ import annotations

import json

from builders import AS_OF, account, call, write_portfolio
from conftest import ROOT
from typer.testing import CliRunner

from esd.cli import app
from esd.format import NAME_LIMIT, digest_filename


def test_file_names_encode_every_other_character():
    assert digest_filename("o'brien@x") == "o%27brien@x.md"
    assert digest_filename("o_brien@x") == "o_brien@x.md"
    assert digest_filename("Ana.Ruiz@X.io") == "ana.ruiz@x.io.md"
    assert digest_filename("ü/..@x") == "%C3%BC%2F..@x.md"
    assert digest_filename("a%27b@x") == "a%2527b@x.md"  # % itself is encoded


def test_long_addresses_stay_under_the_limit_and_apart():
    names = {digest_filename("é" * n + "@x") for n in range(80, 120)}
    names |= {digest_filename("a" * 300 + tail) for tail in ("@x", "@y")}
    assert len(names) == 42
    assert all(len(n.encode()) <= NAME_LIMIT for n in names)
    assert all("~" in n for n in names if len(n) > 200)


def test_owner_emails_differing_in_case_are_one_digest(tmp_path):
    folder = write_portfolio(tmp_path / "in", [
        account("a1", owner_email="Ana.Ruiz@Lumen.example.com"),
        account("a2", owner_email="ana.ruiz@lumen.example.com"),
        account("a3", owner_email="o'brien@x.io"), account("a4", owner_email="o_brien@x.io")],
        calls=[call(a, f"c{a}", [("Dana Lee", "Hello.")]) for a in ("a1", "a2", "a3", "a4")])
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["dry-run", "--input-dir", str(folder), "--references",
                                      str(ROOT / "references"), "--as-of", AS_OF,
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    run = json.loads((out / "run.json").read_text())
    assert sorted(d["owner_email"] for d in run["digests"]) == [
        "ana.ruiz@lumen.example.com", "o'brien@x.io", "o_brien@x.io"]
    assert sorted(p.name for p in out.glob("*.md")) == [
        "ana.ruiz@lumen.example.com.md", "o%27brien@x.io.md", "o_brien@x.io.md"]
