"""Value formats shared by every layer: the one timestamp parser, the one UTC formatter,
money as policies write it, and the digest file name (contract §7).

Nothing here imports another esd module.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_time(value: Any, epoch: Literal["s", "ms"] | None = None) -> datetime | None:
    """A timestamp as an aware UTC datetime, else None.

    Strings are ISO 8601 (`Z` or an offset; none means UTC). With `epoch`, numbers (and
    strings of digits) are seconds or milliseconds since 1970, as Intercom and
    Gainsight answer. Anything else, booleans included, is None.
    """
    if epoch and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if epoch and isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return EPOCH + timedelta(seconds=value if epoch == "s" else value / 1000)
        except (OverflowError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def utc_z(moment: datetime) -> str:
    """`2026-11-23T00:00:00Z`: a moment in UTC to the second (naive means UTC)."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def usd(value: float | None) -> str:
    """$950, $2.5K, $250K, $1.25M, $2B: money as a policy or the reference files write it
    (segmentation reports, 4-segmentation.md messages). Digests use `render.money`."""
    if value is None:
        return "—"
    for size, unit, digits in ((1e9, "B", 2), (1e6, "M", 2), (1e4, "K", 0), (1e3, "K", 1)):
        if abs(value) >= size:
            scaled = f"{value / (size if unit != 'K' else 1e3):,.{digits}f}"
            return "$" + (scaled.rstrip("0").rstrip(".") if digits else scaled) + unit
    return f"${value:,.0f}"


NAME_LIMIT = 255  # bytes in one file name on ext4, APFS, NTFS
_SAFE = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789@._+-")


def digest_filename(owner_email: str) -> str:
    """The file a CSM's digest is written to (contract §7): the address lower-cased, every
    byte of its UTF-8 form outside `a-z 0-9 @ . _ + -` written as `%XX`, then `.md`.

    Distinct addresses (after lower-casing) never share a name: the encoding is
    reversible. A name over the 255-byte limit keeps its first 200 bytes and adds `~` and
    32 hex digits of the address's SHA-256; `~` never occurs in an encoded name, so a
    shortened name cannot equal a whole one.
    """
    encoded = "".join(chr(b) if b in _SAFE else f"%{b:02X}"
                      for b in owner_email.lower().encode("utf-8"))
    if len(encoded) + len(".md") > NAME_LIMIT:
        head = encoded[:200]
        head = head[:head.rfind("%")] if "%" in head[-2:] else head  # no split %XX
        digest = hashlib.sha256(owner_email.lower().encode("utf-8")).hexdigest()[:32]
        encoded = f"{head}~{digest}"
    return encoded + ".md"
