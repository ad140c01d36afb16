"""Gainsight's answers and reads: what a body means ("no data" and "no such object" are
answers, Gainsight's error codes name the failure), the offset-paged object query and
the describe API behind `esd check`. Quirks: ../shared/api-notes.md §2.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from esd.connectors.gainsight_config import (
    DESCRIBE_PATH,
    FIELD_TABLES,
    QUERY_PATH,
    GainsightConfig,
)
from esd.connectors.http import DEFAULT_TIMEOUT, HeaderAuth, RateLimiter, Source, make_client
from esd.errors import CredentialsRejected, SourceError
from esd.paging import offset_until_short

SYSTEM = "Gainsight"
NO_DATA = ("GSOBJ_1011", "no data found", "no entity matches")
AUTH_CODES = ("GS_APIG_2401", "GSOBJ_1024")
# A filter value's time zone is undocumented: the server-side filter is a day wider on
# each side and the exact window is applied by the caller.
FILTER_SLACK = timedelta(days=1)


def meaning(body: Any) -> str | None:
    """What a `result: false` body says: no-data, no-object, auth or error."""
    if not isinstance(body, dict) or body.get("result") is not False:
        return None
    text = f"{body.get('errorCode')} {body.get('errorDesc')} {body.get('detail')}".lower()
    if body.get("errorCode") in AUTH_CODES:
        return "auth"
    if any(marker.lower() in text for marker in NO_DATA):
        return "no-data"
    if body.get("title") == "OBJECT_NOT_FOUND" or "object not found" in text:
        return "no-object"
    return "error"


def failure(method: str, path: str, body: Any, status: int) -> SourceError:
    # errorDesc stays out: Gainsight's templates put record values in it.
    body = body if isinstance(body, dict) else {}
    detail = ", ".join(str(part) for part in (
        body.get("errorCode") or body.get("title"),
        body.get("requestId") and f"request id {body['requestId']}") if part)
    rejected = status in (401, 403) or meaning(body) == "auth"
    what = ("rejected the credentials" if rejected
            else f"answered {status}" if status >= 400 else "failed")
    error = CredentialsRejected if rejected else SourceError
    return error(f"{SYSTEM}: {method} {path} {what}" + (f" ({detail})" if detail else ""),
                 source=SYSTEM, endpoint=f"{method} {path}")


class GainsightSource(Source):
    """Reads Gainsight's 4xx bodies: "no data" and "no such object" are answers, the
    error code and request id are named (the body carries them, not a header)."""

    def check_response(self, method: str, path: str, response: httpx.Response) -> Any:
        status = response.status_code
        if 400 <= status < 500 and status != 429:
            try:
                body = response.json()
            except ValueError:
                body = None
            found = meaning(body)
            if found in ("no-data", "no-object") and status not in (401, 403):
                return body
            if found or status in (401, 403):
                raise failure(method, path, body, status)
        return super().check_response(method, path, response)


def open_source(cfg: GainsightConfig, *, sleep: Callable[[float], None] = time.sleep,
                timeout: httpx.Timeout = DEFAULT_TIMEOUT) -> Source:
    """The instance as a read-only Source: the configured objects' query paths and
    describe only."""
    objects = (cfg.account_object, cfg.usage_object, cfg.stakeholder_object, cfg.health_object)
    paths = {QUERY_PATH.format(o) for o in objects if o} | {DESCRIBE_PATH}
    client = make_client(cfg.base_url, HeaderAuth("AccessKey", cfg.token.get_secret_value()),
                         timeout=timeout)
    return GainsightSource(SYSTEM, client, query_paths=paths, sleep=sleep,
                           rate_limiter=RateLimiter(cfg.requests_per_minute / 60, sleep=sleep))


class NoObject(Exception):
    """The instance has no such object (its name is the argument)."""


def no_object(cfg_key: str, obj: str) -> SourceError:
    """The error for a configured object the instance lacks, naming its esd.toml key."""
    return SourceError(f"Gainsight: the instance has no object {obj} (esd.toml [gainsight] "
                       f"{cfg_key}; `esd check` lists every misnamed object and field)",
                       source=SYSTEM)


def wire_time(moment: datetime) -> str:
    """A filter value as Gainsight writes dates: `2026-11-16 00:00:00`, UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def query_rows(source: Source, cfg: GainsightConfig, obj: str, fields: Mapping[str, str],
               window: Any = None) -> list[dict]:
    """Every row of `obj` (near `window` on its occurred_at field), `cfg.page_size` rows a
    request at growing offsets until a short page. Raises NoObject."""
    path = QUERY_PATH.format(obj)
    body: dict[str, Any] = {"select": list(dict.fromkeys(fields.values())),
                            "orderBy": {"Gsid": "asc"}, "limit": cfg.page_size}  # stable pages
    if window:
        body["where"] = {"expression": "A AND B", "conditions": [
            {"name": fields["occurred_at"], "alias": "A", "operator": "GTE",
             "value": [wire_time(window.start - FILTER_SLACK)]},
            {"name": fields["occurred_at"], "alias": "B", "operator": "LT",
             "value": [wire_time(window.end + FILTER_SLACK)]}]}

    def fetch(request: dict[str, Any]) -> list[dict]:
        answer = source.query(path, request)
        found = meaning(answer)
        if found == "no-object":
            raise NoObject(obj)
        if found not in (None, "no-data"):
            raise failure("POST", path, answer, 200)
        if found == "no-data":
            return []
        # Success bodies carry the rows in `data` or in `data.records` (api-notes §2);
        # anything else (null, a list, no `data`) is an answer esd cannot read.
        data = answer.get("data") if isinstance(answer, dict) else None
        if isinstance(data, list):
            return source.items("POST", path, answer, "data")
        return source.items("POST", path, data if isinstance(data, dict) else answer,
                            "records" if isinstance(data, dict) else "data")

    rows: list[dict] = []
    last = None
    for page in source.pages("POST", path, {**body, "offset": 0},
                             offset_until_short(cfg.page_size), fetch):
        if page and page == last:  # never loop forever on a server that ignores offset
            raise SourceError(f"Gainsight: POST {path} answered the same page twice",
                              source=SYSTEM, endpoint=f"POST {path}")
        rows.extend(page)
        last = page
    return rows


# --- describe (esd check) -------------------------------------------------------------


def describe_problems(source: Source, cfg: GainsightConfig) -> list[str]:
    """Every configured object or field the instance does not have, each with the
    esd.toml key that names it. Lookup paths (`Csm__gr.Email`) are followed."""
    described: dict[str, dict[str, dict] | None] = {}

    def fields_of(obj: str) -> dict[str, dict] | None:
        if obj.lower() not in described:
            described[obj.lower()] = _describe(source, obj)
        return described[obj.lower()]

    def has(obj: str, name: str) -> bool:
        fields, (head, _, rest) = fields_of(obj), name.partition(".")
        if fields is None or not rest:
            return fields is not None and head.lower() in fields
        return any(has(target, rest) for target in _lookup_targets(fields, head))

    problems = []
    for table in FIELD_TABLES:
        obj_key = table.replace("_fields", "_object")
        if not (obj := getattr(cfg, obj_key)):
            continue
        if fields_of(obj) is None:
            hint = ('; set it to "" if the instance has none'
                    if table in ("stakeholder_fields", "health_fields") else "")
            problems.append(f"Gainsight: no object {obj} (esd.toml [gainsight] {obj_key}{hint})")
            continue
        problems += [f"Gainsight: object {obj} has no field {name} (esd.toml "
                     f"[gainsight.{table}] {key})"
                     for key, name in getattr(cfg, table).items() if not has(obj, name)]
    return problems


def _describe(source: Source, obj: str) -> dict[str, dict] | None:
    """The object's fields by lower-case name; None when the instance has no such object."""
    answer = source.query(DESCRIBE_PATH, {"objectNames": [obj], "includeChilds": "true"})
    if (found := meaning(answer)) not in (None, "no-object"):
        raise failure("POST", DESCRIBE_PATH, answer, 200)
    data = answer.get("data") if found is None and isinstance(answer, dict) else None
    for item in data if isinstance(data, list) else [data]:
        if isinstance(item, dict) and str(item.get("objectName", "")).lower() == obj.lower():
            return {str(f.get("fieldName", "")).lower(): f
                    for f in item.get("fields") or [] if isinstance(f, dict)}
    return None


def _lookup_targets(fields: Mapping[str, dict], lookup: str) -> list[str]:
    """The objects a lookup such as `Csm__gr` points to."""
    for field in fields.values():
        detail = (field.get("meta") or {}).get("lookupDetail") or {}
        if str(detail.get("lookupName", "")).lower() == lookup.lower():
            return [o["objectName"] for o in detail.get("lookupObjects") or []
                    if isinstance(o, dict) and o.get("objectName")]
    return []
