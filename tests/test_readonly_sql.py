"""The read-only guard of warehouse queries (contract §8): one SELECT or WITH statement,
whatever comments, strings and semicolons a file holds."""

from __future__ import annotations

import pytest

from esd.connectors.readonly_sql import read_only_query
from esd.errors import InputError


@pytest.mark.parametrize("sql, why", [
    ("delete from accounts", "starts with 'DELETE'"),
    ("INSERT INTO accounts VALUES ('a')", "starts with 'INSERT'"),
    ("select 1; drop table x", "holds 2 SQL statements"),
    ("select 1;\n;\nupdate accounts set arr = 0", "holds 2 SQL statements"),
    ("with gone as (delete from accounts returning *) select * from gone", "DELETE"),
    ("select * into copy_of_accounts from accounts", "INTO"),
    ("select * from accounts for update", "UPDATE"),
    ("pragma database_list", "starts with 'PRAGMA'"),
    ("-- only a comment; nothing else\n", "holds no SQL statement"),
    ("select 1 /* unclosed", "block comment is never closed"),
    ("select 1 /* /* */ ; drop table x; /* */ */", "nested block comments"),
    ("select 'never closed", "never closed"),
    # Under backslash escapes (BigQuery, MySQL) the string ends later: a hidden DROP.
    ("select 'a\\'; drop table x; --'", "holds 2 SQL statements"),
    # Under dollar quoting (PostgreSQL, DuckDB) `$$'$$` is a string: a hidden DROP.
    ("select $$'$$; drop table x; select '$$", "never closed"),
    ("select :account_id", "unknown bind parameter :account_id"),
])
def test_anything_but_one_read_is_refused(sql, why):
    with pytest.raises(InputError, match="q.sql: ") as caught:
        read_only_query(sql, "q.sql")
    assert why in str(caught.value)
    assert caught.value.exit_code == 2


def test_semicolons_and_write_words_inside_comments_strings_and_quotes_are_harmless():
    sql = ("-- accounts; the CRM's copy (delete nothing)\n"
           "/* a ; here; and INSERT there */\n"
           "select id, 'x;y' as note, \"update\" as last_update, update_count\n"
           "from accounts -- trailing; comment\n"
           ";\n")
    assert read_only_query(sql, "q.sql") == sql[:sql.index(" -- trailing")]


def test_with_and_parenthesised_selects_are_reads():
    for sql in ("WITH x AS (SELECT 1 AS a) SELECT a FROM x", "(select 1)",
                "select $$a b$$ as dollar_quoted, 'it''s' as doubled"):
        assert read_only_query(sql, "q.sql") == sql


def test_what_dialects_read_differently_is_refused_rather_than_guessed():
    # `;` inside $$...$$ splits the statement where dollar quoting does not exist.
    with pytest.raises(InputError, match="holds 2 SQL statements"):
        read_only_query("select $$a;b$$", "q.sql")


def test_colons_outside_parameters_are_escaped_for_sqlalchemy():
    sql = ("select '10:30 :not_a_param', ts::date from t -- :nor_this\n"
           "where ts >= :window_start and ts < :window_end")
    got = read_only_query(sql, "q.sql")
    assert "'10:30 \\:not_a_param'" in got and "-- \\:nor_this" in got
    assert ":window_start" in got and "\\:window_start" not in got and "ts::date" in got


def test_the_line_of_the_problem_is_named():
    with pytest.raises(InputError, match=r"q.sql: line 3: DELETE"):
        read_only_query("with a as (\n  select 1\n), b as (delete from t returning *)\n"
                        "select * from a", "q.sql")
