"""The line forms of the input files (contract §2): `NAME.jsonl` for every kind and
`NAME.csv` for the flat ones. Same records, same run; every bad line is exit 2 naming
file, line and field (or column); the readers stream."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from builders import AS_OF, account, call, departure, event, ticket, write_portfolio
from conftest import ROOT
from flatforms import convert, to_csv, to_jsonl
from pydantic import TypeAdapter
from test_bad_input import CASES, MISSING, Raw
from test_bad_input import portfolio as bad_input_portfolio
from typer.testing import CliRunner

from esd.cli import app
from esd.connectors.files import load_portfolio
from esd.connectors.flatfiles import parse_csv, parse_jsonl, read_csv, read_jsonl
from esd.errors import InputError
from esd.models import Account

DEMO = ROOT / "examples" / "portfolio"
REFS = str(ROOT / "references")
STEMS = {"accounts.json": "accounts", "calls.json": "calls",
         "usage_events.json": "usage_events", "support_tickets.json": "support_tickets",
         "stakeholder_changes.json": "stakeholder_changes", "health.json": "health"}


def dry_run(directory: Path, out: Path, references: str = REFS, as_of: str = AS_OF):
    return CliRunner().invoke(app, ["dry-run", "--input-dir", str(directory),
                                    "--references", references, "--as-of", as_of,
                                    "--out", str(out)])


def json_folder(directory: Path) -> Path:
    """A small good portfolio as .json files (tickets with a tag list and one without)."""
    return write_portfolio(
        directory,
        [account("a1"), account("a2", owner_email="Ben@lumen.example.com", owner_name=None)],
        [call("a1", "c1", [("Dana Lee", "Do you support SSO with Okta?")]),
         call("a2", "c2", [("Dana Lee", "Hello.")])],
        [event("a1", "tier_gated_feature_attempt", "attempts", 100.0, feature="sso"),
         event("a2", "seat_count_spike", "seat_count", None, event_id="e2")],
        [ticket("a1", "Need SSO", "Okta SSO, please.\nSecond line", tags=["sso", "okta"]),
         ticket("a2", "Invoice", "Where is it?", tags=[])],
        [departure("a2", "2026-11-05T00:00:00Z", champion=False)])


def bad(directory: Path) -> InputError:
    with pytest.raises(InputError) as caught:
        load_portfolio(directory)
    return caught.value


# --- the same portfolio in every form ------------------------------------------------


@pytest.fixture(scope="module")
def demo_json_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo-json") / "out"
    result = dry_run(DEMO, out, str(DEMO / "references"), "2026-11-23")
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("form", [".jsonl", ".csv"])
def test_the_demo_portfolio_in_another_form_gives_the_same_run(form, demo_json_run, tmp_path):
    folder = convert(DEMO, tmp_path / "in", form)
    names = sorted(p.name for p in folder.iterdir())
    if form == ".csv":  # calls have no CSV form: they stay .jsonl
        assert names == ["accounts.csv", "calls.jsonl", "health.csv",
                         "stakeholder_changes.csv", "support_tickets.csv", "usage_events.csv"]
    else:
        assert all(n.endswith(".jsonl") for n in names) and len(names) == 6
    out = tmp_path / "out"
    result = dry_run(folder, out, str(DEMO / "references"), "2026-11-23")
    assert result.exit_code == 0, result.output
    assert (out / "run.json").read_text() == (demo_json_run / "run.json").read_text()
    digests = sorted(p.name for p in demo_json_run.glob("*.md"))
    assert digests and sorted(p.name for p in out.glob("*.md")) == digests
    for name in digests:
        assert (out / name).read_text() == (demo_json_run / name).read_text(), name


@pytest.mark.parametrize("form", [".jsonl", ".csv"])
def test_a_small_portfolio_loads_to_equal_records_in_every_form(form, tmp_path):
    source = json_folder(tmp_path / "json")
    expected = load_portfolio(source)
    got = load_portfolio(convert(source, tmp_path / "other", form))
    assert got.model_dump() == expected.model_dump()
    assert got.tickets[0].body_summary == "Okta SSO, please.\nSecond line"
    assert got.tickets[1].tags == [] and got.usage_events[1].delta_pct is None


# --- which file of a kind -------------------------------------------------------------


@pytest.mark.parametrize("other", ["accounts.jsonl", "accounts.csv"])
def test_two_forms_of_one_kind_is_exit_2_naming_both_and_writing_nothing(other, tmp_path):
    source = json_folder(tmp_path / "in")
    (source / other).write_text(to_jsonl([account("a1")]) if other.endswith("l")
                                else to_csv([account("a1")]))
    out = tmp_path / "out"
    result = dry_run(source, out)
    assert result.exit_code == 2, result.output
    assert f"{source / 'accounts.json'} and {source / other}: two forms of accounts" \
        in result.output
    assert not out.exists()


def test_calls_have_no_csv_form(tmp_path):
    source = json_folder(tmp_path / "in")
    (source / "calls.json").rename(source / "calls.csv")
    err = bad(source)
    assert "calls.csv: calls have no CSV form" in str(err)
    assert "required input file not found" not in str(err)


def test_a_missing_required_kind_still_names_the_json_file(tmp_path):
    source = convert(json_folder(tmp_path / "json"), tmp_path / "in", ".csv")
    (source / "usage_events.csv").unlink()
    assert f"{source / 'usage_events.json'}: required input file not found" in str(bad(source))


# --- .jsonl ---------------------------------------------------------------------------


def jsonl_folder(tmp_path: Path) -> Path:
    return convert(json_folder(tmp_path / "json"), tmp_path / "in", ".jsonl")


def test_a_bad_line_in_the_middle_of_a_jsonl_is_exit_2_naming_file_line_field(tmp_path):
    source = jsonl_folder(tmp_path)
    records = [account(f"a{i}") for i in range(1, 6)]
    records[2]["arr"] = "lots"
    text = to_jsonl(records)
    (source / "accounts.jsonl").write_text(text)
    out = tmp_path / "out"
    result = dry_run(source, out)
    assert result.exit_code == 2, result.output
    assert (f"{source / 'accounts.jsonl'}: line 3 (id a3): field arr: Input should be a "
            'valid number (got "lots")') in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_jsonl_takes_blank_lines_crlf_and_trailing_blank_lines(tmp_path):
    source = jsonl_folder(tmp_path)
    lines = to_jsonl([account("a1"), account("a2")], newline="\r\n").split("\r\n")
    (source / "accounts.jsonl").write_bytes(
        ("\r\n" + lines[0] + "\r\n  \r\n\r\n" + lines[1] + "\r\n\r\n\n\n").encode())
    assert [a.id for a in load_portfolio(source).accounts] == ["a1", "a2"]


@pytest.mark.parametrize("line, expected", [
    ('{"id": "a3",', "line 3: malformed JSON: EOF while parsing a value at column 12"),
    ('[{"id": "a3"}]', "line 3: expected a JSON object, one record per line (got list)"),
    ("null", "line 3: expected a JSON object, one record per line (got null)"),
    ('{"id": "a3", "x": [[[1]]]}', "line 3: field x: nested deeper than the record shape "
                                   "allows (more than 2 levels)"),
    ('{"id": "a3"}{"id": "a4"}', "line 3: malformed JSON: trailing characters at column 13"),
])
def test_an_unreadable_jsonl_line_is_named(line, expected, tmp_path):
    source = jsonl_folder(tmp_path)
    (source / "accounts.jsonl").write_text(to_jsonl([account("a1"), account("a2")]) + line
                                           + "\n")
    err = bad(source)
    assert f"{source / 'accounts.jsonl'}: {expected}" in err.problems, err.problems
    assert err.record == 3


def test_a_jsonl_with_a_byte_order_mark_is_refused_as_a_json_file_is(tmp_path):
    source = jsonl_folder(tmp_path)
    (source / "health.jsonl").write_bytes(b'\xef\xbb\xbf{"account_id": "a1"}\n')
    assert str(bad(source)).endswith(f"{source / 'health.jsonl'}: starts with a byte-order "
                                     "mark; save it as UTF-8 without BOM")


@pytest.mark.parametrize("name", sorted(n for n, b in CASES.items() if b.record is not None))
def test_every_bad_json_record_of_the_corpus_is_bad_on_its_jsonl_line(name, tmp_path):
    """test_bad_input's corpus, written one record per line: each case is exit 2 and
    names the `.jsonl` file, the record's line and the field."""
    case = CASES[name]
    source = tmp_path / "in"
    records = bad_input_portfolio(source)
    target = records[case.file]
    value, raw = case.value, None
    if isinstance(value, Raw):
        value, raw = "@@RAW@@", str(value)
    if case.field is None and value is MISSING:
        target[case.record].pop("transcript")
    elif case.field is None:
        target[case.record] = value
    elif value is MISSING:
        target[case.record].pop(case.field)
    else:
        target[case.record][case.field] = value
    for file, kind_records in records.items():
        (source / file).unlink()
        text = to_jsonl(kind_records)
        (source / f"{STEMS[file]}.jsonl").write_text(text.replace('"@@RAW@@"', raw or ""))
    path = source / f"{STEMS[case.file]}.jsonl"
    err = bad(source)
    lines = [p for p in err.problems if p.startswith(f"{path}: line {case.record + 1}")]
    assert lines, err.problems
    if case.field is not None:
        assert any(f"field {case.field}" in p for p in lines), lines


def test_a_ticket_without_id_is_named_by_its_file_and_line(tmp_path):
    source = jsonl_folder(tmp_path)
    tickets = [ticket("a1", "Need SSO", "Okta", tags=["sso"])]
    tickets[0].pop("ticket_id")
    (source / "support_tickets.jsonl").write_text("\n" + to_jsonl(tickets))
    assert load_portfolio(source).tickets[0].ticket_id == "support_tickets.jsonl:2"


# --- .csv -----------------------------------------------------------------------------


def csv_folder(tmp_path: Path) -> Path:
    return convert(json_folder(tmp_path / "json"), tmp_path / "in", ".csv")


HEADER = "id,name,arr,segment,tier,owner_email,renewal_date,owner_name"


def write_accounts(source: Path, *rows: str, header: str = HEADER) -> Path:
    path = source / "accounts.csv"
    path.write_bytes("\r\n".join((header, *rows, "")).encode())
    return path


def test_csv_takes_a_bom_crlf_quoted_commas_and_newlines_and_trailing_blank_lines(tmp_path):
    source = csv_folder(tmp_path)
    (source / "support_tickets.csv").write_bytes(
        b"\xef\xbb\xbfticket_id,account_id,subject,body_summary,tags,opened_at\r\n"
        b'T1,a1,"SSO, again","Okta SSO.\r\nSecond line, with a comma",sso; okta,'
        b"2026-11-18T15:00:00Z\r\n"
        b'T2,a2,Invoice,"He said ""hi""",,2026-11-18T15:00:00Z\r\n'
        b",,,,,\r\n\r\n\r\n")
    tickets = load_portfolio(source).tickets
    assert [(t.ticket_id, t.subject, t.body_summary, t.tags) for t in tickets] == [
        ("T1", "SSO, again", "Okta SSO.\r\nSecond line, with a comma", ["sso", "okta"]),
        ("T2", "Invoice", 'He said "hi"', [])]


def test_a_bad_row_after_a_quoted_newline_is_named_by_the_line_an_editor_shows(tmp_path):
    source = csv_folder(tmp_path)
    path = source / "support_tickets.csv"
    path.write_text("ticket_id,account_id,subject,body_summary,tags,opened_at\n"
                    'T1,a1,SSO,"two\nlines",sso,2026-11-18T15:00:00Z\n'
                    'T2,a2,Invoice,"also\ntwo",,yesterday\n')
    err = bad(source)
    assert err.problems[0].startswith(f"{path}: line 4 (ticket_id T2): column opened_at: "
                                      "Input should be a valid datetime")
    assert (err.file, err.record, err.field) == (str(path), 4, "opened_at")


ROW = "a1,Acme,1000,enterprise,business,ana@x.io,2027-06-30,"


@pytest.mark.parametrize("row, expected", [
    ("a1,Acme,\"1,000\",enterprise,business,ana@x.io,2027-06-30,",
     'column arr: Input should be a valid number (got "1,000")'),
    ("a1,Acme,NaN,enterprise,business,ana@x.io,2027-06-30,",
     'column arr: Input should be a valid number (got "NaN")'),
    ("a1,Acme,1e400,enterprise,business,ana@x.io,2027-06-30,",
     "column arr: Input should be a finite number"),
    ("a1,Acme, 1000,enterprise,business,ana@x.io,2027-06-30,",
     'column arr: Input should be a valid number (got " 1000")'),
    ("a1,Acme,,enterprise,business,ana@x.io,2027-06-30,",
     "column arr: empty, and the field is required"),
    ("a1,Acme,1000,enterprise,business,ana@x.io,12/31/2026,",
     "column renewal_date: Input should be a valid date"),
    ("a1,Acme,1000,enterprise,business,ana@x.io,2026-02-30,",
     "column renewal_date: Input should be a valid date"),
    ("a1,Acme,1000,enterprise,business,ana,2027-06-30,",
     "column owner_email: String should match pattern"),
])
def test_a_bad_cell_is_exit_2_naming_file_line_and_column(row, expected, tmp_path):
    source = csv_folder(tmp_path)
    path = write_accounts(source, ROW.replace("a1", "a0"), row, ROW.replace("a1", "a2"))
    err = bad(source)
    assert len(err.problems) == 1, err.problems
    assert err.problems[0].startswith(f"{path}: line 3 (id a1): {expected}"), err.problems


@pytest.mark.parametrize("cell, expected", [
    ("true", True), ("TRUE", True), ("True", True), ("1", True),
    ("false", False), ("FALSE", False), ("0", False),
])
def test_csv_booleans_are_true_false_1_0_in_any_case(cell, expected, tmp_path):
    source = csv_folder(tmp_path)
    (source / "stakeholder_changes.csv").write_text(
        f"account_id,change_type,role,is_champion,occurred_at\n"
        f"a2,departure,,{cell},2026-11-05T00:00:00Z\n")
    change = load_portfolio(source).stakeholder_changes[0]
    assert (change.is_champion, change.role) == (expected, None)


@pytest.mark.parametrize("cell", ["yes", "t", "2", " true", "null"])
def test_any_other_boolean_is_bad(cell, tmp_path):
    source = csv_folder(tmp_path)
    path = source / "stakeholder_changes.csv"
    path.write_text("account_id,change_type,role,is_champion,occurred_at\n"
                    f"a2,departure,,{cell},2026-11-05T00:00:00Z\n")
    assert (f"{path}: line 2: column is_champion: Input should be a valid boolean "
            f'(got "{cell}")') in bad(source).problems


def test_an_empty_health_cell_is_null_and_a_fraction_of_a_count_is_bad(tmp_path):
    source = csv_folder(tmp_path)
    path = source / "health.csv"
    path.write_text("account_id,dau_mau,exec_access,seats_used\na1,,,3\na2,0.5,False,2.0\n")
    assert "line 3: column seats_used: Input should be a valid integer (got 2.0)" in str(
        bad(source))
    path.write_text("account_id,dau_mau,exec_access,seats_used\na1,,,3\na2,0.5,False,2\n")
    health = load_portfolio(source).health
    assert [(h.dau_mau, h.exec_access, h.seats_used) for h in health] == [
        (None, None, 3), (0.5, False, 2)]


def test_a_missing_required_column_is_named_on_line_1(tmp_path):
    source = csv_folder(tmp_path)
    path = write_accounts(source, "a1,Acme,enterprise,business,ana@x.io,2027-06-30",
                          header="id,name,segment,tier,owner_email,renewal_date")
    err = bad(source)
    assert err.problems == [f"{path}: line 1: column arr: missing from the header "
                            "(a required field)"]


def test_an_unknown_column_is_ignored_as_an_unknown_json_field_is(tmp_path):
    source = csv_folder(tmp_path)
    write_accounts(source, f"{ROW},gold,", f"{ROW.replace('a1', 'a2')},silver,",
                   header=f"{HEADER},plan,")
    accounts = load_portfolio(source).accounts
    expected = TypeAdapter(Account).validate_json(json.dumps(
        {"id": "a1", "name": "Acme", "arr": 1000, "segment": "enterprise", "tier": "business",
         "owner_email": "ana@x.io", "renewal_date": "2027-06-30", "owner_name": None}))
    assert accounts[0] == expected  # equal, though only one was read from a file
    assert accounts[0] != expected.model_copy(update={"arr": 1001.0})
    assert accounts[0] != accounts[1] and accounts[1].origin.endswith("accounts.csv: line 3")
    assert not hasattr(accounts[0], "plan")
    assert accounts[0].origin == f"{source / 'accounts.csv'}: line 2"


@pytest.mark.parametrize("rows, expected", [
    ([ROW[:-1].rsplit(",", 1)[0]], "line 2: 6 cells where the header has 8 columns"),
    ([f"{ROW}extra,more"], "line 2: 9 cells where the header has 8 columns"),
    (['a1,"Acme,1000'], "line 2: malformed CSV: unexpected end of data"),
    (['a1,"Acme"x,1000'], "line 2: malformed CSV: ',' expected after '\"'"),
])
def test_a_broken_row_is_named(rows, expected, tmp_path):
    source = csv_folder(tmp_path)
    path = write_accounts(source, *rows)
    assert f"{path}: {expected}" in bad(source).problems


def test_trailing_empty_cells_past_the_header_are_no_problem(tmp_path):
    source = csv_folder(tmp_path)
    write_accounts(source, f"{ROW},,", ROW.replace("a1", "a2"))
    assert [a.id for a in load_portfolio(source).accounts] == ["a1", "a2"]


@pytest.mark.parametrize("data, expected", [
    (b"", "empty file (expected a header row of field names)"),
    ("\ufeffid,name\n".encode("utf-16"), "line 1: UTF-16 text; save it as CSV UTF-8"),
    (HEADER.encode() + b"\n" + ROW.encode() + b"\nb\xe9,Caf\xe9\n",
     "line 3: not UTF-8 text (byte 0xe9); save it as CSV UTF-8"),
    (b"id,name,id\n", "line 1: column id: named twice in the header"),
])
def test_an_unreadable_csv_file_is_named(data, expected, tmp_path):
    source = csv_folder(tmp_path)
    (source / "accounts.csv").write_bytes(data)
    assert f"{source / 'accounts.csv'}: {expected}" in bad(source).problems


def test_account_ids_are_cross_checked_by_line_and_column(tmp_path):
    source = csv_folder(tmp_path)
    accounts = write_accounts(source, ROW, ROW.replace("a1", "a2"), ROW)
    usage = source / "usage_events.csv"
    usage.write_text("account_id,event_type,metric_name,value_current,value_baseline,"
                     "delta_pct,occurred_at\nzz,x,y,1,1,0,2026-11-18T15:00:00Z\n")
    assert bad(source).problems == [
        f"{accounts}: line 4 (id a1): column id: duplicate of line 2",
        f'{usage}: line 2: column account_id: unknown account "zz" (not in accounts.csv)']


def test_a_header_only_accounts_file_has_no_accounts(tmp_path):
    source = csv_folder(tmp_path)
    write_accounts(source, ",,,,,,,")
    assert f"{source / 'accounts.csv'}: no accounts (the file holds no rows below its " \
        "header)" in bad(source).problems


# --- streaming ------------------------------------------------------------------------


class Lines:
    """A file stand-in that hands out lines one at a time and refuses to be read
    whole: the readers may only iterate it."""

    def __init__(self, lines: list[bytes]) -> None:
        self.lines = lines
        self.given = 0

    def __iter__(self):
        for line in self.lines:
            self.given += 1
            yield line

    def read(self, *args):
        raise AssertionError("the reader read the whole file")


def test_a_jsonl_file_is_read_a_line_at_a_time(tmp_path):
    lines = Lines([json.dumps(account(f"a{i}")).encode() + b"\n" for i in range(1000)])
    problems = []
    rows = parse_jsonl(lines, tmp_path / "accounts.jsonl", TypeAdapter(Account), "id", 2,
                       problems)
    assert lines.given == 0  # a generator: nothing read before the first record is asked for
    first = next(rows)
    assert (first.line, first.record.id, lines.given) == (1, "a0", 1)
    assert sum(1 for _ in rows) == 999 and lines.given == 1000 and problems == []


def test_a_csv_file_is_read_a_row_at_a_time(tmp_path):
    lines = Lines([HEADER.encode() + b"\n"]
                  + [ROW.replace("a1", f"a{i}").encode() + b"\n" for i in range(1000)])
    rows = parse_csv(lines, tmp_path / "accounts.csv", Account, TypeAdapter(Account), "id", [])
    assert lines.given == 0
    assert next(rows).record.id == "a0" and lines.given == 2  # the header and one row


class LinesPath(type(Path())):
    """A path whose file is a `Lines` stand-in: what the file readers open."""

    lines: Lines

    def open(self, *args, **kwargs):
        return contextlib.nullcontext(self.lines)


def test_the_file_readers_iterate_the_file_they_open(tmp_path):
    path = LinesPath(tmp_path / "accounts.jsonl")
    path.lines = Lines([json.dumps(account(f"a{i}")).encode() + b"\n" for i in range(1000)]
                       + [b"not json\n"])
    problems = []
    rows = read_jsonl(path, TypeAdapter(Account), "id", 2, problems)
    assert next(rows).record.id == "a0" and path.lines.given == 1 and problems == []
    assert sum(1 for _ in rows) == 999 and [p.text for p in problems] == [
        f"{path}: line 1001: malformed JSON: expected ident at column 2"]
    path = LinesPath(tmp_path / "accounts.csv")
    path.lines = Lines([HEADER.encode() + b"\n"] + [ROW.encode() + b"\n"] * 1000)
    rows = read_csv(path, Account, TypeAdapter(Account), "id", [])
    assert next(rows).record.id == "a1" and path.lines.given == 2


# --- esd check ------------------------------------------------------------------------


def test_check_names_the_line_of_a_csv_or_jsonl_input(tmp_path):
    source = csv_folder(tmp_path)
    write_accounts(source, ROW.replace("ana@x.io", "Ana@x.io"), ROW.replace("a1", "a2"))
    calls = [call("a1", "c1", [("Dana Lee", "Hello.")]),
             call("a2", "c2", [("Dana Lee", "Hi."), ("Marcus", "Hey.")])]
    (source / "calls.jsonl").write_text(to_jsonl(calls))
    result = CliRunner().invoke(app, ["check", "--references", REFS, "--input-dir",
                                      str(source), "--json"])
    assert result.exit_code == 2, result.output
    found = [(Path(p["file"]).name, p["line"], p["message"])
             for p in json.loads(result.output)["problems"] if p["file"].startswith(
                 str(source))]
    assert found == [
        ("calls.jsonl", 2, 'line 2 (call_id c2): field transcript: speaker "Marcus" matches '
                           "no attendee: 1 utterance not counted (add them to attendees, or "
                           "fix the label)"),
        ("accounts.csv", 3, 'line 3 (id a2): column owner_email: "ana@x.io" differs only by '
                            'case from "Ana@x.io" (line 2): both are one CSM; write it one '
                            "way")]
