"""Warehouse rows to records (contract §8): the columns a query must return, and each
value converted to what the record field takes.

Columns may be timestamps or ISO 8601 text, numbers or numeric decimals; SQL NULL is
null where the field may be null, and a missing value where it may not. Anything else
(text where a number belongs, a number where a timestamp belongs) is bad input, named
by query file, row and column; the record models of esd.models then check the values
as they check the input files.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, get_args, get_origin
from uuid import UUID

from pydantic import BaseModel, ValidationError

from esd.format import parse_time

MAX_PROBLEMS = 25  # reported per query; the count of the rest follows


def columns_of(model: type[BaseModel]) -> tuple[list[str], list[str]]:
    """(required, optional) columns of a record kind: its model's fields."""
    required = [n for n, f in model.model_fields.items() if f.is_required()]
    return required, [n for n in model.model_fields if n not in required]


def column_problems(model: type[BaseModel], columns: Sequence[str], kind: str,
                    extra: bool = False) -> list[str]:
    """What the result columns lack of `model` (and, with `extra`, what they hold that no
    field takes: a misspelled optional column is otherwise silently absent)."""
    required, optional = columns_of(model)
    found = [c.lower() for c in columns]
    problems = [f"column {name}: missing (every {kind} row needs it)"
                for name in required if name not in found]
    problems += [f"column {name}: returned twice" for i, name in enumerate(found)
                 if name in found[:i]]
    if extra:
        known = required + optional
        problems += [f"column {name}: not a field of a {kind} row (known: "
                     f"{', '.join(known)})" for name in found if name not in known]
    return problems


class RowReader:
    """Builds one model from each row of one query's result, collecting problems."""

    def __init__(self, model: type[BaseModel], columns: Sequence[str], file: str,
                 key: str) -> None:
        self.model, self.file, self.key = model, file, key
        fields = model.model_fields
        # Per column a field takes: (position, field, converter, nullable, required);
        # a column no field takes is ignored.
        self.plan = [(i, name, CONVERT[_kind(fields[name].annotation)],
                      _nullable(fields[name].annotation), fields[name].is_required())
                     for i, name in enumerate(c.lower() for c in columns) if name in fields]
        self.problems: list[str] = []

    def read(self, number: int, row: Sequence[Any]) -> BaseModel | None:
        """Row `number` (1-based) as a record, or None after noting why not."""
        values: dict[str, Any] = {}
        errors: list[str] = []
        for i, name, convert, nullable, required in self.plan:
            value = row[i]
            if value is None:
                if not nullable:
                    errors.append(f"column {name}: NULL, but a value is required")
                elif required:
                    values[name] = None
                continue
            try:
                values[name] = convert(value)
            except (ValueError, TypeError, OverflowError) as exc:
                errors.append(f"column {name}: {exc} (got {_shown(value)})")
        if not errors:
            try:
                return self.model.model_validate(values)
            except ValidationError as exc:
                errors = [_explain(err) for err in exc.errors(include_url=False)]
        ident = values.get(self.key) if self.key != "account_id" else None
        where = f"{self.file}: row {number}" + (f" ({self.key} {ident})" if ident else "")
        self.problems.extend(f"{where}: {e}" for e in errors)
        return None

    def summary(self) -> list[str]:
        shown = self.problems[:MAX_PROBLEMS]
        if len(self.problems) > MAX_PROBLEMS:
            shown.append(f"... and {len(self.problems) - MAX_PROBLEMS} more problems")
        return shown


def _explain(err: Mapping[str, Any]) -> str:
    column = ".".join(str(p) for p in err["loc"]) or "(row)"
    if err["type"] == "missing":
        return f"column {column}: missing"
    message = err["msg"].removeprefix("Value error, ")
    return f"column {column}: {message} (got {_shown(err.get('input'))})"


def _shown(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else f"{type(value).__name__} {value!s}"
    return text[:60]


# --- one converter per field type --------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | UUID) and not isinstance(value, bool):
        return str(value)  # numeric or UUID ids are ids all the same
    raise TypeError("expected text")


def _number(value: Any) -> float:
    kind = type(value)
    if kind is float:
        return value
    if kind is Decimal or kind is int:
        return float(value)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return float(value)
    raise TypeError("expected a number")


def _integer(value: Any) -> int:
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool) \
            and value == int(value):
        return int(value)
    raise TypeError("expected a whole number")


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | Decimal) and value in (0, 1):
        return bool(value)
    raise TypeError("expected a boolean")


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value  # naive means UTC (the models convert)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str) and (parsed := parse_time(value)) is not None:
        return parsed
    raise TypeError("expected a timestamp or ISO 8601 text")


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise TypeError("expected a date (YYYY-MM-DD)")


CONVERT = {str: _text, float: _number, int: _integer, bool: _flag, datetime: _moment,
           date: _day}


def _kind(annotation: Any) -> type:
    """The plain type behind a field's annotation (Annotated, Optional, Literal peeled)."""
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _kind(get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return _kind(next(a for a in get_args(annotation) if a is not type(None)))
    if origin is typing.Literal:
        return str
    return annotation


def _nullable(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _nullable(get_args(annotation)[0])
    return origin in (typing.Union, types.UnionType) and type(None) in get_args(annotation)
