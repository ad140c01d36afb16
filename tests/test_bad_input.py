"""A corpus of bad input files (contract §2): each variant is exit 2 through the CLI,
names the file, record and field, prints no traceback, and writes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from builders import AS_OF, account, call, departure, event, ticket, write_portfolio
from conftest import ROOT
from typer.testing import CliRunner

from esd.cli import app

REFS = str(ROOT / "references")
DEEP = "[" * 5000 + "]" * 5000


class Raw(str):
    """JSON text put in place of a value as it is (NaN, 1e400, deep nesting)."""


class Bad(NamedTuple):
    file: str
    record: int | None  # the record the message names, None for a whole-file problem
    field: str | None  # the field the message names
    value: Any = None  # the new value of `field` in `record` ...
    text: str | None = None  # ... or the whole file's new bytes (latin-1 text)


A, C, U, T, S, H = ("accounts.json", "calls.json", "usage_events.json",
                    "support_tickets.json", "stakeholder_changes.json", "health.json")
MISSING = object()

CASES: dict[str, Bad] = {
    # accounts.json: numbers
    "arr-nan": Bad(A, 0, "arr", Raw("NaN")),
    "arr-infinity": Bad(A, 0, "arr", Raw("Infinity")),
    "arr-minus-infinity": Bad(A, 0, "arr", Raw("-Infinity")),
    "arr-1e400": Bad(A, 0, "arr", Raw("1e400")),
    "arr-over-10^12": Bad(A, 0, "arr", 2e12),
    "arr-negative": Bad(A, 0, "arr", -1),
    "arr-string": Bad(A, 0, "arr", "100000"),
    "arr-boolean": Bad(A, 0, "arr", True),
    "arr-null": Bad(A, 0, "arr", None),
    "arr-missing": Bad(A, 0, "arr", MISSING),
    # accounts.json: dates
    "renewal-month-13": Bad(A, 0, "renewal_date", "2026-13-01"),
    "renewal-before-1970": Bad(A, 0, "renewal_date", "1969-12-31"),
    "renewal-us-format": Bad(A, 0, "renewal_date", "12/31/2026"),
    "renewal-number": Bad(A, 0, "renewal_date", 20261231),
    "renewal-year-0001": Bad(A, 0, "renewal_date", "0001-01-01"),
    # accounts.json: emails
    "email-no-at": Bad(A, 0, "owner_email", "ana.ruiz"),
    "email-two-ats": Bad(A, 0, "owner_email", "ana@ruiz@x.io"),
    "email-space": Bad(A, 0, "owner_email", "ana ruiz@x.io"),
    "email-line-break": Bad(A, 0, "owner_email", "ana@x.io\nbcc@evil.example"),
    "email-nul": Bad(A, 0, "owner_email", "ana\u0000@x.io"),
    "email-empty": Bad(A, 0, "owner_email", ""),
    "email-number": Bad(A, 0, "owner_email", 42),
    "email-missing": Bad(A, 0, "owner_email", MISSING),
    # accounts.json: strings, ids, types, shape
    "id-empty": Bad(A, 0, "id", ""),
    "id-line-break": Bad(A, 0, "id", "a1\n"),
    "id-number": Bad(A, 0, "id", 1),
    "id-duplicate": Bad(A, 1, "id", "a1"),
    "name-empty": Bad(A, 0, "name", ""),
    "name-list": Bad(A, 0, "name", ["Acme"]),
    "name-object": Bad(A, 0, "name", {"en": "Acme"}),
    "segment-null": Bad(A, 0, "segment", None),
    "tier-number": Bad(A, 0, "tier", 2),
    "owner-name-number": Bad(A, 0, "owner_name", 7),
    "unknown-field-nested-too-deep": Bad(A, 0, "extra", [[[1]]]),
    "field-nested-5000-deep": Bad(A, 0, "name", Raw(DEEP)),
    "record-not-object": Bad(A, 0, None, "a1"),
    "record-is-array": Bad(A, 0, None, ["a1"]),
    # calls.json
    "call-date-after-9999-in-utc": Bad(C, 0, "occurred_at", "9999-12-31T23:59:59-05:00"),
    "call-date-before-1970": Bad(C, 0, "occurred_at", "1969-12-31T23:59:59Z"),
    "call-date-year-1-east-of-utc": Bad(C, 0, "occurred_at", "0001-01-01T00:00:00+01:00"),
    "call-date-words": Bad(C, 0, "occurred_at", "yesterday"),
    "call-date-epoch-number": Bad(C, 0, "occurred_at", 1700000000),
    "call-date-null": Bad(C, 0, "occurred_at", None),
    "call-id-empty": Bad(C, 0, "call_id", ""),
    "call-id-number": Bad(C, 0, "call_id", 17),
    "call-account-unknown": Bad(C, 0, "account_id", "zz"),
    "call-account-null": Bad(C, 0, "account_id", None),
    "attendees-string": Bad(C, 0, "attendees", "Dana Lee"),
    "attendee-customer-string": Bad(C, 0, "attendees", [{"name": "Dana", "is_customer": "yes"}]),
    "attendee-name-empty": Bad(C, 0, "attendees", [{"name": "", "is_customer": True}]),
    "attendee-email-number": Bad(C, 0, "attendees",
                                 [{"name": "Dana", "is_customer": True, "email": 5}]),
    "transcript-string": Bad(C, 0, "transcript", "Dana: hello"),
    "utterance-speaker-number": Bad(C, 0, "transcript", [{"speaker": 1, "text": "hi"}]),
    "utterance-start-fraction": Bad(C, 0, "transcript",
                                    [{"speaker": "Dana", "text": "hi", "start_ms": 1.5}]),
    "utterance-start-string": Bad(C, 0, "transcript",
                                  [{"speaker": "Dana", "text": "hi", "start_ms": "12"}]),
    "transcript-text-number": Bad(C, 0, "transcript_text", 42),
    "transcript-5000-deep": Bad(C, 0, "transcript", Raw(DEEP)),
    "no-transcript-at-all": Bad(C, 0, None, MISSING),  # a record rule: names the three
    # usage_events.json
    "delta-nan": Bad(U, 0, "delta_pct", Raw("NaN")),
    "delta-infinity": Bad(U, 0, "delta_pct", Raw("Infinity")),
    "delta-minus-infinity": Bad(U, 0, "delta_pct", Raw("-Infinity")),
    "delta-1e400": Bad(U, 0, "delta_pct", Raw("1e400")),
    "delta-over-10^9": Bad(U, 0, "delta_pct", 2e9),
    "delta-under-minus-10^9": Bad(U, 0, "delta_pct", -2e9),
    "delta-string": Bad(U, 0, "delta_pct", "25"),
    "delta-boolean": Bad(U, 0, "delta_pct", True),
    "delta-missing": Bad(U, 0, "delta_pct", MISSING),
    "value-current-nan": Bad(U, 0, "value_current", Raw("NaN")),
    "value-baseline-1e400": Bad(U, 0, "value_baseline", Raw("-1e400")),
    "value-current-string": Bad(U, 0, "value_current", "10"),
    "usage-date-after-9999": Bad(U, 0, "occurred_at", "9999-12-31T23:59:59-05:00"),
    "usage-date-feb-30": Bad(U, 0, "occurred_at", "2026-02-30T00:00:00Z"),
    "metric-empty": Bad(U, 0, "metric_name", ""),
    "event-type-null": Bad(U, 0, "event_type", None),
    "feature-number": Bad(U, 0, "feature", 5),
    "usage-account-unknown": Bad(U, 0, "account_id", "zz"),
    "usage-extra-5000-deep": Bad(U, 0, "vendor", Raw(DEEP)),
    # support_tickets.json
    "tags-string": Bad(T, 0, "tags", "sso"),
    "tags-number": Bad(T, 0, "tags", [1]),
    "tags-nested": Bad(T, 0, "tags", [["sso"]]),
    "opened-before-1970": Bad(T, 0, "opened_at", "1900-01-01T00:00:00Z"),
    "opened-null": Bad(T, 0, "opened_at", None),
    "opened-missing": Bad(T, 0, "opened_at", MISSING),
    "subject-null": Bad(T, 0, "subject", None),
    "body-number": Bad(T, 0, "body_summary", 5),
    "ticket-id-number": Bad(T, 0, "ticket_id", 12),
    "ticket-account-unknown": Bad(T, 0, "account_id", "zz"),
    # stakeholder_changes.json
    "change-type-unknown": Bad(S, 0, "change_type", "fired"),
    "champion-string": Bad(S, 0, "is_champion", "true"),
    "champion-number": Bad(S, 0, "is_champion", 1),
    "change-year-10000": Bad(S, 0, "occurred_at", "10000-01-01T00:00:00Z"),
    "change-role-number": Bad(S, 0, "role", 5),
    "change-account-unknown": Bad(S, 0, "account_id", "zz"),
    # health.json
    "dau-mau-nan": Bad(H, 0, "dau_mau", Raw("NaN")),
    "dau-mau-over-1": Bad(H, 0, "dau_mau", 1.5),
    "csat-infinity": Bad(H, 0, "csat", Raw("Infinity")),
    "nps-1e400": Bad(H, 0, "nps", Raw("1e400")),
    "escalations-fraction": Bad(H, 0, "open_escalations", 1.5),
    "seats-boolean": Bad(H, 0, "seats_used", True),
    "health-duplicate": Bad(H, 1, "account_id", "a1"),
    "health-account-unknown": Bad(H, 0, "account_id", "zz"),
    # whole files
    "accounts-empty-file": Bad(A, None, None, text=""),
    "accounts-empty-array": Bad(A, None, None, text="[]"),
    "accounts-utf8-bom": Bad(A, None, None, text="\xef\xbb\xbf[]"),
    "calls-utf16-bom": Bad(C, None, None, text="\xff\xfe[\x00]\x00"),
    "usage-malformed": Bad(U, None, None, text='[{"account_id": "a1",'),
    "usage-object-not-array": Bad(U, None, None, text='{"account_id": "a1"}'),
    "tickets-null": Bad(T, None, None, text="null"),
    "tickets-trailing-comma": Bad(T, None, None, text="[1,]"),
    "stakeholders-not-utf8": Bad(S, None, None, text='["\xff"]'),
    "health-5000-deep": Bad(H, None, None, text=DEEP),
}


def portfolio(directory: Path) -> dict[str, list[dict]]:
    records = {
        A: [account("a1"), account("a2", owner_email="ben@lumen.example.com")],
        C: [call("a1", "c1", [("Dana Lee", "Do you support SSO with Okta?")]),
            call("a2", "c2", [("Dana Lee", "Hello.")])],
        U: [event("a1", "tier_gated_feature_attempt", "attempts", 100.0, feature="sso")],
        T: [ticket("a1", "Need SSO", "Okta SSO", tags=["sso"])],
        S: [departure("a2", "2026-11-05T00:00:00Z")],
        H: [{"account_id": "a1", "dau_mau": 0.5}, {"account_id": "a2", "csat": 4.0}],
    }
    write_portfolio(directory, records[A], records[C], records[U], records[T], records[S])
    (directory / H).write_text(json.dumps(records[H]))
    return records


def apply(directory: Path, bad: Bad) -> None:
    records = portfolio(directory)
    if bad.text is not None:
        (directory / bad.file).write_bytes(bad.text.encode("latin-1"))
        return
    target = records[bad.file]
    raw: list[str] = []
    value = bad.value
    if isinstance(value, Raw):
        raw.append(value)
        value = f"@@RAW{len(raw) - 1}@@"
    if bad.field is None and value is MISSING:  # a call without any transcript field
        target[bad.record].pop("transcript")
    elif bad.field is None:
        target[bad.record] = value
    elif value is MISSING:
        target[bad.record].pop(bad.field)
    else:
        target[bad.record][bad.field] = value
    text = json.dumps(target)
    for i, piece in enumerate(raw):
        text = text.replace(f'"@@RAW{i}@@"', piece)
    (directory / bad.file).write_text(text)


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_exit_2_naming_where_and_writing_nothing(name, tmp_path):
    bad = CASES[name]
    apply(tmp_path / "in", bad)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["dry-run", "--input-dir", str(tmp_path / "in"),
                                      "--references", REFS, "--as-of", AS_OF,
                                      "--out", str(out), "--no-quiet"])
    output = result.output
    assert result.exit_code == 2, output
    assert isinstance(result.exception, SystemExit)  # not an uncaught error
    assert "Traceback" not in output
    assert f"{bad.file}:" in output
    if bad.record is not None:
        assert f"record [{bad.record}]" in output, output
    if bad.field is not None:
        assert f"field {bad.field}" in output, output
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def test_the_corpus_is_large_and_its_base_portfolio_is_good(tmp_path):
    assert len(CASES) >= 80
    portfolio(tmp_path / "in")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["dry-run", "--input-dir", str(tmp_path / "in"),
                                      "--references", REFS, "--as-of", AS_OF,
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("raw, limit, shallow", [
    (b'[{"a": [1, {"b": 2}]}]', 4, True),
    (b'[{"a": [1, {"b": 2}]}]', 3, False),  # four levels
    (b'[{"a": "]]["}]', 3, False),  # brackets in a string: the exact scan decides
    (b'[' * 5000 + b']' * 5000, 4, False),
    (b'[{"a": 1}, {"b": [2]}]', 3, True),
])
def test_the_fast_depth_check_never_passes_a_file_it_cannot_vouch_for(raw, limit, shallow):
    from esd.connectors.jsonfiles import _shallow

    assert _shallow(raw, limit) is shallow
