"""The state store's connection: one SQL dialect over SQLite and PostgreSQL, and every
driver error as a StateUnavailable (exit 4) naming the store with its password masked."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from esd.errors import StateUnavailable
from esd.format import utc_z
from esd.redact import redact_text


class Database:
    """A DB-API connection with one SQL dialect: `?` placeholders, ON CONFLICT upserts
    (both SQLite 3.24+ and PostgreSQL 9.5+ speak it). Every driver error becomes a
    StateUnavailable naming `label` (the store, password masked)."""

    def __init__(self, connection: Any, postgres: bool, label: str = "state store",
                 errors: tuple[type[BaseException], ...] = (sqlite3.Error,)) -> None:
        self.connection = connection
        self.postgres = postgres
        self.label = label
        self.errors = errors

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        if self.postgres:
            sql = sql.replace("?", "%s")
        try:
            cursor = self.connection.cursor()
            cursor.execute(sql, tuple(params))
            rows = cursor.fetchall() if cursor.description else []
            cursor.close()
        except self.errors as exc:
            raise self.failure(exc) from None
        return rows

    def commit(self) -> None:
        try:
            self.connection.commit()
        except self.errors as exc:
            raise self.failure(exc) from None

    def rollback(self) -> None:
        with contextlib.suppress(*self.errors):  # a connection gone has nothing to undo
            self.connection.rollback()

    def close(self) -> None:
        with contextlib.suppress(*self.errors):
            self.connection.close()

    def failure(self, exc: BaseException) -> StateUnavailable:
        return unavailable(self.label, exc)


def unavailable(label: str, exc: BaseException, secret: str | None = None
                ) -> StateUnavailable:
    """The store's failure as exit 4: the driver's first line, any URL password masked."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if secret:
        first = first.replace(secret, "***")
    return StateUnavailable(f"state store {label} is unreadable or unreachable: "
                            f"{redact_text(first)[:300]}", source="state", file=label)


def password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def window_key(moment: datetime) -> str:
    return utc_z(moment)


def utc_now() -> str:
    return window_key(datetime.now(UTC))
