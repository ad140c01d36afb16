"""What esd outcome reads, below the state store: ids as pasted, outcomes, dates, and
the rows and problems of an outcome CSV."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from esd.app.outcome_csv import (
    ID_ALPHABET,
    Row,
    is_signal_id,
    normalize_id,
    normalize_outcome,
    parse_day,
    read_csv,
)
from esd.errors import InputError
from esd.models import signal_id

TODAY = date(2026, 11, 30)
ID = signal_id(date(2026, 11, 23), "ana@x.example", "a1", "sso")


def read(tmp_path: Path, text: str):
    path = tmp_path / "crm.csv"
    path.write_bytes(text.encode())
    return read_csv(path, TODAY)


def test_every_id_esd_makes_is_read_as_an_id():
    ids = [signal_id(date(2026, 11, 23), "ana@x.example", f"a{i}", "sso") for i in range(2000)]
    assert {c for i in ids for c in i} == ID_ALPHABET  # all 32 characters occur
    assert all(is_signal_id(normalize_id(i.upper())) for i in ids)


@pytest.mark.parametrize("pasted, expected", [
    ("`7hq2k9d`", "7hq2k9d"), ("  7HQ2K9D \n", "7hq2k9d"), (" ` 7hq2k9d ` ", "7hq2k9d"),
    ('"7hq2k9d"', "7hq2k9d"), ("7HQ2KOL", "7hq2k01"),  # Crockford: O is 0, L is 1
])
def test_ids_are_read_as_pasted(pasted, expected):
    assert normalize_id(pasted) == expected


@pytest.mark.parametrize("text, expected", [
    ("converted", "converted"), (" NOISE ", "noise"), ("no_conversation", "no-conversation"),
    ("No Conversation", "no-conversation"), ("won", None), ("", None),
])
def test_outcomes_in_any_spelling_of_the_three(text, expected):
    assert normalize_outcome(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("2026-11-25", date(2026, 11, 25)), (" 2026-11-25 ", date(2026, 11, 25)),
    ("2026-11-25 00:00:00", date(2026, 11, 25)),  # what a spreadsheet writes for a date
    ("2026-11-25T23:30:00-05:00", date(2026, 11, 26)),  # its UTC day
    ("11/25/2026", None), ("25.11.2026", None), ("2026-13-01", None), ("Nov 25", None),
])
def test_dates_are_iso_only(text, expected):
    assert parse_day(text) == expected


def test_line_numbers_count_the_lines_of_quoted_notes(tmp_path):
    found = read(tmp_path, f'signal_id,note,outcome\n{ID},"one\ntwo\nthree",noise\n'
                 f"\n{ID},,maybe\n{ID},,converted\n")
    assert found.problems == [(6, "outcome", "'maybe' is not one of converted, noise or "
                               "no-conversation")]
    assert found.rows == [Row(ID, "noise", TODAY, "one\ntwo\nthree", 2),
                          Row(ID, "converted", TODAY, None, 7)]
    assert found.ids == [(2, ID), (6, ID), (7, ID)]  # the bad row's id is still checked


def test_a_value_beyond_the_header_is_a_problem_but_trailing_commas_are_not(tmp_path):
    found = read(tmp_path, f"signal_id,outcome,note\n{ID},noise,booked, with Dana\n"
                 f"{ID},converted,,,\n")
    assert found.problems == [(2, "column 4", "'with Dana' is under no column of the header "
                               "(quote a note that holds a comma)")]
    assert [r.line for r in found.rows] == [3]


def test_an_unclosed_quote_names_the_line_it_opens_on(tmp_path):
    found = read(tmp_path, f'signal_id,outcome,note\n{ID},noise,ok\n{ID},noise,"never\n'
                 "closed\n")
    assert [(line, field) for line, field, _ in found.problems] == [(3, "csv")]
    assert "never closed" in found.problems[0][2]


def test_empty_ids_and_ids_of_the_wrong_shape(tmp_path):
    found = read(tmp_path, "signal_id,outcome\n,noise\nabc,noise\n")
    assert [(line, field) for line, field, _ in found.problems] == [(2, "signal_id"),
                                                                   (3, "signal_id")]
    assert found.rows == [] and found.ids == []


@pytest.mark.parametrize("text, said", [
    ("", "crm.csv: empty: the first line must name the columns"),
    ("\n\n", "crm.csv: empty"),
    (f"{ID},noise\n", "crm.csv:1: header: no header row"),
    ("signal_id,outcome,Outcome\n", "crm.csv:1: outcome: column named twice"),
    ("outcome,date\n", "crm.csv:1: signal_id: missing column (the header names outcome, "
     "date)"),
])
def test_a_file_without_the_columns_raises_at_once(tmp_path, text, said):
    with pytest.raises(InputError) as caught:
        read(tmp_path, text)
    assert said in str(caught.value)
    assert caught.value.exit_code == 2


def test_extra_columns_are_ignored_and_named(tmp_path):
    found = read(tmp_path, f"Account,signal_id,outcome,Owner Email\nacme,{ID},noise,ana\n")
    assert found.ignored == ("account", "owner_email")
    assert found.rows == [Row(ID, "noise", TODAY, None, 2)]
