"""One delivering `esd run` per state store (contract §1 exit 5, §11).

SQLite: a row of `run_lock` naming the holder (host, process, start time) with a
lease, taken in an immediate transaction (SQLite's write lock makes the check and the
claim one step). A crashed run cannot hold it forever: the lease expires, and on the
same host a holder whose process is gone is stale at once. The holder renews the lease
before every message it posts and stops (exit 5) if another run took it meanwhile.

PostgreSQL: a session advisory lock, which the server frees when the holder's
connection ends, crash or not; the row only names the holder for the other run's
message.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime

from esd.delivery.folder import alive
from esd.errors import RunLocked
from esd.format import utc_z
from esd.state import State

NAME = "deliver"
LEASE_S = 600.0  # a crashed run on another host blocks delivery for at most this long
ADVISORY_KEY = 0x65_73_64_72_75_6E  # "esdrun"


class RunLock:
    """The store's delivery lock for this process; use as a context manager."""

    def __init__(self, state: State, lease_s: float = LEASE_S,
                 clock: Callable[[], float] = time.time) -> None:
        self.state = state
        self.db = state.db
        self.lease_s = lease_s
        self.clock = clock
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.started = utc_z(datetime.now(UTC))
        self.held = False

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock, or raise RunLocked naming who holds it."""
        if self.db.postgres:
            got = self.db.execute("SELECT pg_try_advisory_lock(?)", (ADVISORY_KEY,))[0][0]
            if not got:
                self.db.rollback()
                raise self._locked(self._named_holder())
            self._write()
        else:
            self.db.commit()  # close any implicit transaction before BEGIN
            self.db.execute("BEGIN IMMEDIATE")
            try:
                holder = self._holder()
                if holder is not None and not self._stale(holder):
                    raise self._locked(holder)
                self._write()
            except BaseException:
                self.db.rollback()
                raise
        self.held = True

    def renew(self) -> None:
        """Extend the lease; RunLocked when another run took the lock meanwhile."""
        if not self.held:
            return
        if not self.db.postgres:
            self.db.commit()
            self.db.execute("BEGIN IMMEDIATE")
        holder = self._holder()
        if holder is None or holder[:3] != (self.host, self.pid, self.started):
            self.db.rollback()
            self.held = False
            raise self._locked(holder, lost=True)
        self.db.execute("UPDATE run_lock SET expires_at = ? WHERE name = ?",
                        (self.clock() + self.lease_s, NAME))
        self.db.commit()

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        self.db.rollback()
        self.db.execute("DELETE FROM run_lock WHERE name = ? AND host = ? AND pid = ? AND "
                        "started_at = ?", (NAME, self.host, self.pid, self.started))
        if self.db.postgres:
            self.db.execute("SELECT pg_advisory_unlock(?)", (ADVISORY_KEY,))
        self.db.commit()

    def _named_holder(self, wait_s: float = 2.0) -> tuple[str, int, str, float] | None:
        """PostgreSQL: the advisory lock's holder writes its row just after taking the
        lock, so a run that lost the race by a moment may look before that row is
        committed: look again for up to `wait_s` before naming no one."""
        deadline = time.monotonic() + wait_s
        while (holder := self._holder()) is None and time.monotonic() < deadline:
            self.db.rollback()  # a fresh snapshot for the next look
            time.sleep(0.05)
        return holder

    def _holder(self) -> tuple[str, int, str, float] | None:
        rows = self.db.execute("SELECT host, pid, started_at, expires_at FROM run_lock "
                               "WHERE name = ?", (NAME,))
        return tuple(rows[0]) if rows else None  # type: ignore[return-value]

    def _write(self) -> None:
        self.db.execute(
            "INSERT INTO run_lock (name, host, pid, started_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET host = excluded.host, "
            "pid = excluded.pid, started_at = excluded.started_at, "
            "expires_at = excluded.expires_at",
            (NAME, self.host, self.pid, self.started, self.clock() + self.lease_s))
        self.db.commit()

    def _stale(self, holder: tuple[str, int, str, float]) -> bool:
        host, pid, _, expires = holder
        if expires < self.clock():
            return True
        return host == self.host and pid != self.pid and not alive(pid)

    def _locked(self, holder: tuple | None, lost: bool = False) -> RunLocked:
        who = ("another esd run" if holder is None else
               f"esd run on host {holder[0]}, process {holder[1]}, started {holder[2]}")
        what = ("took over the delivery lock of" if lost else
                "is delivering on")
        return RunLocked(f"{who} {what} the state store {self.state.label}; nothing was "
                         "posted by this run. Wait for it to finish (a crashed run's lease "
                         f"expires within {self.lease_s / 60:.0f} minutes).",
                         holder=who, source="state", file=self.state.label)
