"""Refuse any query but one read-only statement before it reaches a warehouse (contract §8).

A query file must hold exactly one SELECT or WITH statement. It is tokenized here (not
matched with regular expressions over the raw text): comments, quoted strings and quoted
identifiers are skipped as units, so a `;` or `DELETE` inside them is harmless, and one
outside them is found wherever it stands.

SQL dialects disagree on two things that decide where a string ends: backslash escapes
(`'it\\'s'` in BigQuery, MySQL and PostgreSQL's E-strings) and dollar quoting (`$$...$$`
in PostgreSQL, DuckDB and Snowflake). A text that reads as one harmless statement under
one rule can hide `; DROP TABLE x` under the other, so the query must pass under all
four readings. Nested block comments are refused for the same reason. The read-only
connection (esd.connectors.warehouse) is the second line.

sqlglot could parse the statement instead, but it would have to understand every
dialect a team points esd at, and a valid Snowflake query it cannot parse would be
refused; this tokenizer needs to know only where tokens end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import product

from esd.errors import InputError

PARAMETERS = ("window_start", "window_end", "lookback_start")
# Words that let a statement starting with SELECT or WITH write: a data-modifying CTE
# (`WITH d AS (DELETE ... RETURNING *)`), `SELECT ... INTO new_table`, `FOR UPDATE`,
# and the statements no read query can contain (refused even as a bare column name;
# quote such a column: "update").
WRITE_WORDS = frozenset({
    "insert", "update", "delete", "merge", "upsert", "into", "truncate", "drop", "create",
    "alter", "grant", "revoke", "copy", "attach", "detach", "call", "execute", "vacuum",
})
_DOLLAR_TAG = re.compile(r"\$(?:[^\W\d][\w]*)?\$", re.UNICODE)
_BIND = re.compile(r"(?<![:\w\\]):(\w+)(?![:\w])", re.UNICODE)  # SQLAlchemy text()'s


@dataclass
class Token:
    kind: str  # word, param, quoted, comment, punct, semicolon
    text: str
    start: int
    end: int


def read_only_query(sql: str, file: str) -> str:
    """`sql` as one SELECT/WITH statement for SQLAlchemy `text()`: trailing semicolons
    dropped, colons inside strings and comments escaped so text() binds only the real
    parameters. InputError (exit 2) naming `file` for anything else."""
    readings = [_tokens(sql, file, backslash, dollar)
                for backslash, dollar in product((False, True), repeat=2)]
    for tokens in readings:
        _check(tokens, sql, file)
    tokens = readings[0]
    last = max(t.end for t in tokens if t.kind not in ("semicolon", "comment"))
    out, done = [], 0
    for t in tokens:
        if t.start >= last:
            break
        if t.kind in ("quoted", "comment"):
            out.append(sql[done:t.start])
            out.append(_BIND.sub(r"\\:\1", t.text))
            done = t.end
    out.append(sql[done:last])
    return "".join(out)


def parameters(sql: str, file: str) -> set[str]:
    """The bind parameters a query uses (each one of PARAMETERS)."""
    return {t.text for t in _tokens(sql, file, False, False) if t.kind == "param"}


def _tokens(sql: str, file: str, backslash: bool, dollar: bool) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c.isspace():
            i += 1
            continue
        start = i
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
            tokens.append(Token("comment", sql[start:i], start, i))
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            if end < 0:
                raise _refuse(file, sql, i, "a block comment is never closed")
            if "/*" in sql[i + 2:end]:
                raise _refuse(file, sql, i, "nested block comments are not accepted (SQL "
                              "dialects disagree on where they end)")
            i = end + 2
            tokens.append(Token("comment", sql[start:i], start, i))
        elif c in "'\"`":
            i = _close_quote(sql, i, backslash, file)
            tokens.append(Token("quoted", sql[start:i], start, i))
        elif dollar and c == "$" and (tag := _DOLLAR_TAG.match(sql, i)):
            end = sql.find(tag.group(), tag.end())
            if end < 0:
                raise _refuse(file, sql, i, f"a {tag.group()}-quoted string is never closed")
            i = end + len(tag.group())
            tokens.append(Token("quoted", sql[start:i], start, i))
        elif c == ";":
            i += 1
            tokens.append(Token("semicolon", c, start, i))
        elif c == ":" and (bind := _BIND.match(sql, i)) and (i == 0 or sql[i - 1] not in ":\\"):
            if bind.group(1) not in PARAMETERS:
                raise _refuse(file, sql, i, f"unknown bind parameter :{bind.group(1)} (esd "
                              f"binds {', '.join(':' + p for p in PARAMETERS)})")
            i = bind.end()
            tokens.append(Token("param", bind.group(1), start, i))
        elif c.isalnum() or c == "_":
            while i < n and (sql[i].isalnum() or sql[i] in "_$"):
                i += 1
            tokens.append(Token("word", sql[start:i].lower(), start, i))
        else:
            i += 1
            tokens.append(Token("punct", c, start, i))
    return tokens


def _close_quote(sql: str, i: int, backslash: bool, file: str) -> int:
    quote, j = sql[i], i + 1
    while j < len(sql):
        if backslash and sql[j] == "\\":
            j += 2
        elif sql[j] == quote:
            if sql.startswith(quote, j + 1):  # a doubled quote stands for one
                j += 2
            else:
                return j + 1
        else:
            j += 1
    what = "string" if quote == "'" else "quoted name"
    raise _refuse(file, sql, i, f"a {what} opened here is never closed (a backslash before a "
                  "quote counts as an escape in some SQL dialects)")


def _check(tokens: list[Token], sql: str, file: str) -> None:
    statements: list[list[Token]] = [[]]
    for t in tokens:
        if t.kind == "semicolon":
            statements.append([])
        elif t.kind != "comment":
            statements[-1].append(t)
    statements = [s for s in statements if s]
    if not statements:
        raise InputError(f"{file}: holds no SQL statement (expected one SELECT or WITH "
                         "query)", file=file)
    if len(statements) > 1:
        raise InputError(f"{file}: holds {len(statements)} SQL statements; esd runs exactly "
                         "one SELECT or WITH query per file (nothing was run)", file=file)
    [statement] = statements
    first = next((t for t in statement if t.text != "("), statement[0])
    if first.kind != "word" or first.text not in ("select", "with"):
        raise _refuse(file, sql, first.start, f"starts with {first.text.upper()!r}: esd only "
                      "reads, so a query file holds one SELECT or WITH statement")
    for t in statement:
        if t.kind == "word" and t.text in WRITE_WORDS:
            raise _refuse(file, sql, t.start, f"{t.text.upper()}: esd only reads, so a "
                          "query may not write (quote a column named "
                          f'{t.text} as "{t.text}")')


def _refuse(file: str, sql: str, at: int, why: str) -> InputError:
    line = sql.count("\n", 0, at) + 1
    return InputError(f"{file}: line {line}: {why} (nothing was run)", file=file, record=line)
