"""Gainsight rows to values: one mapped field of a row (flat keys: lookups come back as
"Csm__gr.Email", maybe in another case), converted to text, a number, a flag or a
moment; a value that fits no conversion raises one of BAD_VALUE naming the field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from esd.format import parse_time

BAD_VALUE = (ValueError, TypeError, OverflowError)


def field_value(row: Mapping[str, Any], fields: Mapping[str, str], key: str,
                convert: Callable[[Any], Any] | None = None) -> Any:
    """One mapped value, converted (default: text); an error names the field."""
    name = fields[key]
    # A lookup column may come back in another case than selected ("csm__gr.email").
    value = row[name] if name in row else next(
        (v for k, v in row.items() if k.lower() == name.lower()), None)
    try:
        return (convert or text)(value)
    except BAD_VALUE as exc:
        raise ValueError(f"field {key} ({name}): {exc}") from None


def text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value).strip()


def number(value: Any) -> float | None:
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    return None if value is None or value == "" else float(value)


def flag(value: Any) -> bool:
    word = str(value or "").strip().lower()
    if word not in ("true", "yes", "1", "false", "no", "0", ""):
        raise ValueError(f"not a boolean: {value!r}")
    return word in ("true", "yes", "1")


def moment(value: Any) -> datetime:
    """Epoch milliseconds (as Gainsight answers) or ISO 8601, as a UTC datetime."""
    parsed = parse_time(value, epoch="ms")
    if parsed is None:
        raise ValueError(f"not a date: {value!r}")
    return parsed


def why(exc: Exception) -> str:
    """What was wrong with a row, for the log: the first field error, or the message."""
    if isinstance(exc, ValidationError):
        err = exc.errors(include_url=False)[0]
        return f"field {'.'.join(map(str, err['loc']))}: {err['msg']}"
    return str(exc)
