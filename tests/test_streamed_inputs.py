"""Reading calls streamed and slim gives the run reading them whole gives (issue 16).

With the rule extractor, `esd dry-run` and `esd segment` read calls.json a run of
records at a time (`stream_array`) and keep a slim call of each (`RuleExtractor.slim`);
calls.jsonl is slimmed line by line. The in-memory path is the same command with
slimming off. Outputs must be byte-identical, and bad input must get exactly the
messages the whole-file reader gives, whatever the chunk size.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import ROOT
from flatforms import to_jsonl
from test_bad_input import CASES, apply
from typer.testing import CliRunner

from esd.app import inputs
from esd.cli import app
from esd.connectors import jsonfiles
from esd.connectors.files import _ARRAYS, KINDS, load_portfolio
from esd.errors import InputError
from esd.extractors.rules import RuleExtractor
from esd.references import load_references

DEMO = ROOT / "examples" / "portfolio"
REFS = DEMO / "references"


def outputs(command: str, directory: Path, out: Path, monkeypatch, slim: bool,
            as_of: str = "2026-11-23") -> dict[str, bytes]:
    """The files `command` writes, reading calls slim (and .json streamed) or whole."""
    extra = ["--no-state"] if command == "segment" else []
    with monkeypatch.context() as patch:
        if not slim:
            patch.setattr(inputs, "slim_for", lambda settings, refs: None)
        result = CliRunner().invoke(app, [
            command, "--input-dir", str(directory), "--references", str(REFS), "--as-of",
            as_of, "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def demo_as(form: str, target: Path) -> Path:
    target.mkdir()
    for path in DEMO.glob("*.json"):
        if path.name == "expected.json":
            continue
        if form == ".jsonl":
            (target / f"{path.stem}.jsonl").write_text(to_jsonl(json.loads(path.read_text())))
        else:
            shutil.copy(path, target / path.name)
    return target


@pytest.mark.parametrize("chunk", [1 << 23, 61])
@pytest.mark.parametrize("command", ["dry-run", "segment"])
def test_streamed_slim_calls_give_the_files_the_whole_read_gives(command, chunk, tmp_path,
                                                                 monkeypatch):
    monkeypatch.setattr(jsonfiles, "CHUNK", chunk)
    read: list[bool] = []

    def spy(*args):
        records = jsonfiles.stream_array(*args)
        read.append(records is not None)  # False: handed back to the whole-file reader
        return records

    monkeypatch.setattr("esd.connectors.files.stream_array", spy)
    whole = outputs(command, DEMO, tmp_path / "whole", monkeypatch, slim=False)
    assert read == []
    assert outputs(command, DEMO, tmp_path / "slim", monkeypatch, slim=True) == whole
    assert read == [True]


def test_slim_jsonl_calls_give_the_run_the_whole_read_gives(tmp_path, monkeypatch):
    folder = demo_as(".jsonl", tmp_path / "in")
    whole = outputs("dry-run", folder, tmp_path / "whole", monkeypatch, slim=False)
    assert outputs("dry-run", folder, tmp_path / "slim", monkeypatch, slim=True) == whole
    assert whole == outputs("dry-run", DEMO, tmp_path / "json", monkeypatch, slim=True)


def _slim():
    return RuleExtractor(load_references(REFS, segmentation_required=False).taxonomy).slim


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_gets_the_whole_read_messages(name, tmp_path, monkeypatch):
    monkeypatch.setattr(jsonfiles, "CHUNK", 64)
    apply(tmp_path, CASES[name])
    with pytest.raises(InputError) as whole:
        load_portfolio(tmp_path)
    with pytest.raises(InputError) as slim:
        load_portfolio(tmp_path, _slim())
    assert (str(slim.value), slim.value.problems) == (str(whole.value), whole.value.problems)


GOOD = [{"account_id": "a1", "call_id": f"c{i}", "occurred_at": "2026-11-18T10:00:00Z",
         "attendees": [{"name": "Dana Lee", "is_customer": True}],
         "transcript": [{"speaker": "Dana Lee", "text": text}]}
        for i, text in enumerate(["We need SAML {", "} }, {", "plain", "[{]}", '\\"}'])]


PLAIN = [{**record, "transcript": [{"speaker": "Dana Lee", "text": "We need SAML."}]}
         for record in GOOD]


@pytest.mark.parametrize("text, streams", [
    (json.dumps(PLAIN), True),
    (json.dumps(PLAIN, indent=2), True),
    (" \n" + json.dumps(PLAIN[2:3]) + " \r\n", True),
    ("[]", True),
    (json.dumps(GOOD), None),  # braces inside strings: a failed guess reads the file whole
    (json.dumps(GOOD, indent=2), None),
    (json.dumps(PLAIN)[:-1] + ", 5]", False),  # a record that is no object
    (json.dumps(PLAIN)[:-1] + ",]", False),  # a trailing comma
    (json.dumps(PLAIN) + "x", False),  # text after the array
    (json.dumps(PLAIN)[:-40], False),  # cut short
    (json.dumps(PLAIN)[:-1] + ', {"account_id": "a1"}]', False),  # a bad last record
    ("[" + json.dumps(PLAIN[2])[:-1] + ', "x": ' + "[" * 3 + "]" * 3 + "}]", False),  # deep
])
@pytest.mark.parametrize("chunk", [7, 100, 1 << 23])
def test_stream_array_reads_what_load_array_reads_or_hands_back(text, streams, chunk,
                                                                  tmp_path, monkeypatch):
    monkeypatch.setattr(jsonfiles, "CHUNK", chunk)
    path = tmp_path / "calls.json"
    path.write_text(text)
    kind = KINDS["calls"]
    found: list = []
    whole = jsonfiles.load_array(path, _ARRAYS["calls"], kind.key, kind.depth, found)
    streamed = jsonfiles.stream_array(path, _ARRAYS["calls"], kind.depth, lambda c: c)
    assert (whole is not None) is (streams is not False)
    if streams is not None:
        assert (streamed is not None) is streams
    if streamed is not None:
        assert [c.model_dump() for c in streamed] == [c.model_dump() for c in whole]


def test_coverage_of_slim_calls_is_the_coverage_of_whole_ones(tmp_path, monkeypatch):
    """esd coverage reads calls slim too (a 10,000-account week held 1 GB whole)."""
    def report(slim: bool) -> dict:
        with monkeypatch.context() as patch:
            if not slim:
                patch.setattr(inputs, "slim_for", lambda settings, refs: None)
            result = CliRunner().invoke(app, [
                "coverage", "--input-dir", str(DEMO), "--references", str(REFS),
                "--as-of", "2026-11-23", "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    real, used = inputs.slim_for, []
    monkeypatch.setattr(inputs, "slim_for",
                        lambda settings, refs: used.append(real(settings, refs)) or used[-1])
    slim = report(True)
    assert used and used[0] is not None  # the run really read calls slim
    assert slim == report(False)
    assert slim["unattributed"]["utterances"] > 0  # the counts slim calls keep
