"""Real call exports through the command line: a strong signal from a Gong-style
transcript whose labels are not exact attendee names, and unattributed speech shown in
the digest footer, run.json, `esd coverage` and `esd check --input-dir` (contract §2, §6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from builders import AS_OF, IN_WINDOW, account, event, write_portfolio
from conftest import TEST_REFS
from test_transcripts import PRIYA, TOM
from typer.testing import CliRunner

from esd.cli import app

REFS = str(TEST_REFS)
INGRID = {"name": "Ingrid Hansen", "title": "Head of IT", "email": "ihansen@acme.example",
          "is_customer": True}

GONG = """[00:00:03] Tom Becker (Senior CSM, Lumen): Morning! How was the long weekend?
[00:00:08] Priya Shah (VP Data): Too short. Let’s start.
[00:21:40] Ingrid: Honestly the big one: do you support SSO with Okta? IT won’t sign
off on the rollout without it.
[00:22:15] Marcus (Acme Finance): And I need the invoice sent to finance@, please.
[00:23:01] Guest 2: Sorry, wrong meeting.
"""
ZOOM = """WEBVTT

1
00:00:01.000 --> 00:00:03.000
Tom Becker: Thanks for making time.

2
00:00:03.500 --> 00:00:06.000
ihansen: We would rather keep it short.
"""
NO_CUSTOMER = "Tom Becker: Hi, just leaving a voicemail about the renewal.\n"


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def record(call_id: str, text: str, account_id: str = "a1") -> dict:
    return {"account_id": account_id, "call_id": call_id, "occurred_at": IN_WINDOW,
            "attendees": [TOM, PRIYA, INGRID], "transcript_text": text}


@pytest.fixture
def inputs(tmp_path) -> Path:
    return write_portfolio(
        tmp_path / "in",
        [account("a1", name="Acme Robotics", owner_email="Tom.Becker@lumen.example.com"),
         account("a2", name="Initech", owner_email="tom.becker@lumen.example.com")],
        calls=[record("gong-1", GONG), record("zoom-2", ZOOM),
               record("vm-3", NO_CUSTOMER, "a2")],
        usage=[event("a1", "tier_gated_feature_attempt", "tier_gated_feature_attempts", 100.0,
                     feature="sso")],
    )


def test_dry_run_finds_the_signal_and_footers_the_unattributed_speech(inputs, tmp_path):
    out = tmp_path / "out"
    result = invoke("dry-run", "--input-dir", str(inputs), "--references", REFS,
                    "--as-of", AS_OF, "--out", str(out), "--no-quiet")
    assert result.exit_code == 0, result.output
    run = json.loads((out / "run.json").read_text())
    [digest] = run["digests"]
    [strong] = digest["strong"]
    assert (strong["account_id"], strong["sku"]) == ("a1", "enterprise-tier")
    [evidence] = strong["call_evidence"]
    assert (evidence["call_id"], evidence["speaker"]) == ("gong-1", "Ingrid Hansen")
    assert evidence["quote"] == "Honestly the big one: do you support SSO with Okta?"
    assert (run["diagnostics"]["unattributed_calls"],
            run["diagnostics"]["unattributed_utterances"]) == (1, 2)
    text = (out / digest["file"]).read_text()
    footer = text[text.index("## Diagnostics"):]
    assert (" · call speech matching no attendee: 2 utterances in 1 call, not counted "
            "(`esd coverage` names the speakers) · ") in footer
    assert "2 call utterances in 1 call matched no attendee" in result.output


def test_the_footer_line_is_absent_when_every_speaker_matches(inputs, tmp_path):
    calls = json.loads((inputs / "calls.json").read_text())
    calls[0]["transcript_text"] = GONG.split("[00:22:15]")[0]
    (inputs / "calls.json").write_text(json.dumps(calls))
    out = tmp_path / "out"
    result = invoke("dry-run", "--input-dir", str(inputs), "--references", REFS,
                    "--as-of", AS_OF, "--out", str(out))
    assert result.exit_code == 0, result.output
    run = json.loads((out / "run.json").read_text())
    assert run["diagnostics"]["unattributed_utterances"] == 0
    assert len(run["digests"][0]["strong"]) == 1
    digest = (out / run["digests"][0]["file"]).read_text()
    assert "## Diagnostics" in digest and "matching no attendee" not in digest


def test_coverage_names_the_calls_and_speakers(inputs):
    # zoom-2's "ihansen:" cue is Ingrid by her email's local part: not unattributed.
    result = invoke("coverage", "--input-dir", str(inputs), "--references", REFS,
                    "--as-of", AS_OF, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["unattributed"] == {
        "calls": 1, "utterances": 2,
        "by_call": [{"call_id": "gong-1", "account_id": "a1",
                     "speakers": {"Marcus": 1, "Guest 2": 1}}]}
    text = invoke("coverage", "--input-dir", str(inputs), "--references", REFS,
                  "--as-of", AS_OF).output
    assert "Speech matching no attendee (not counted): 2 utterances in 1 call." in text
    assert 'call gong-1 (account a1): "Marcus" (1), "Guest 2" (1)' in text


def test_check_reports_speakers_silent_calls_and_email_case(inputs, golive_refs):
    result = invoke("check", "--references", str(golive_refs), "--input-dir", str(inputs),
                    "--json")
    assert result.exit_code == 2, result.output
    messages = [(Path(p["file"]).name, p["message"])
                for p in json.loads(result.output)["problems"]]
    assert messages == [
        ("calls.json", 'record [0] (call_id gong-1): field transcript_text: speaker "Marcus" '
                       "matches no attendee: 1 utterance not counted (add them to attendees, "
                       "or fix the label)"),
        ("calls.json", 'record [0] (call_id gong-1): field transcript_text: speaker '
                       '"Guest 2" matches no attendee: 1 utterance not counted (add them to '
                       "attendees, or fix the label)"),
        ("calls.json", "record [2] (call_id vm-3): field transcript_text: no customer words "
                       "(no utterance is by a customer attendee): the call counts for "
                       "coverage but can yield no mention"),
        ("accounts.json", 'record [1] (id a2): field owner_email: '
                          '"tom.becker@lumen.example.com" differs only by case from '
                          '"Tom.Becker@lumen.example.com" (record [0]): both are one CSM; '
                          "write it one way"),
    ]
    text = invoke("check", "--references", str(golive_refs), "--input-dir", str(inputs))
    assert "4 problem(s) found" in text.output
    assert 'speaker "Marcus" matches no attendee' in text.output


@pytest.mark.parametrize("form", ["json", "jsonl"])
def test_an_unreadable_transcript_names_its_file_and_record_or_line(inputs, tmp_path, form):
    """A transcript is parsed after loading, for the calls in the window; its exit 2 names
    the input file it came from, in its own form, with the record or line."""
    calls = json.loads((inputs / "calls.json").read_text())
    calls[1]["transcript_text"] = "WEBVTT\n\n00:00:0x.000 --> 00:00:04.000\nPriya: we need SSO\n"
    (inputs / "calls.json").unlink()
    if form == "json":
        (inputs / "calls.json").write_text(json.dumps(calls))
    else:
        (inputs / "calls.jsonl").write_text("".join(json.dumps(c) + "\n" for c in calls))
    out = tmp_path / "out"
    result = invoke("dry-run", "--input-dir", str(inputs), "--references", REFS, "--as-of",
                    AS_OF, "--out", str(out))
    assert result.exit_code == 2, result.output
    where = "record [1]" if form == "json" else "line 2"
    assert (f"{inputs / f'calls.{form}'}: {where} (call_id zoom-2): field transcript_text: "
            "malformed WebVTT") in " ".join(result.stderr.split())
    assert not out.exists()


def test_check_reads_calls_slim_and_finds_what_the_whole_read_finds(inputs, golive_refs,
                                                                    monkeypatch):
    """esd check --input-dir keeps slim calls (a 10,000-account week held 1 GB whole):
    the speakers, silent calls and fields it reports are those of the whole read."""
    from esd.app import check as check_app
    from esd.connectors.files import read_inputs

    def problems() -> list[dict]:
        result = invoke("check", "--references", str(golive_refs), "--input-dir",
                        str(inputs), "--json")
        assert result.exit_code == 2, result.output
        return json.loads(result.output)["problems"]

    kept: list[int] = []

    def spy(directory, slim=None):
        folder = read_inputs(directory, slim)
        kept.append(sum(c.transcript_text is not None for c in folder.portfolio.calls))
        return folder

    monkeypatch.setattr(check_app, "read_inputs", spy)
    slim = problems()
    monkeypatch.setattr(check_app, "read_inputs", lambda directory, slim=None: spy(directory))
    assert problems() == slim
    assert kept == [0, 3]  # slim calls hold no transcript text; whole ones do
    assert [p["message"].split(": field ")[1].split(":")[0] for p in slim[:3]] == [
        "transcript_text"] * 3
