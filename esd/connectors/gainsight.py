"""Gainsight CS (NXT): accounts (Company), usage anomalies, stakeholder changes and an
optional health object (its rows mapped in gainsight_health.py).

Reads with `POST /v1/data/objects/query/{object}` (offset paging, at most 5,000 rows a
call, 100 calls a minute); `esd check` validates the configured names with the describe
API. Every object and field name is overridable in esd.toml (contract §8). Quirks (see
../shared/api-notes.md §2): two success shapes (`data: [...]`, `data: {records: [...]}`),
"no data" answered as an error (`result: false`, or HTTP 400 GSOBJ_1011), dates as epoch
milliseconds, the request id in the error body.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Annotated, Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from esd.connectors.base import Pulled, secret, setting
from esd.connectors.http import DEFAULT_TIMEOUT, HeaderAuth, RateLimiter, Source, make_client
from esd.errors import CredentialsRejected, InputError, SourceError
from esd.models import Account, StakeholderChange, UsageEvent, Window

QUERY_PATH = "/v1/data/objects/query/{}"
DESCRIBE_PATH = "/v1/meta/services/objects/describe"
PAGE_SIZE = 5000  # the documented maximum per read call
REQUESTS_PER_MINUTE = 100

ACCOUNT_OBJECT = "Company"
ACCOUNT_FIELDS = {
    "id": "SfdcAccountId", "name": "Name", "arr": "Arr", "renewal_date": "RenewalDate",
    "segment": "Segment__gc", "tier": "Tier__gc", "owner_email": "Csm__gr.Email",
    "owner_name": "Csm__gr.Name"}
USAGE_OBJECT = "Usage_Anomaly__gc"
USAGE_FIELDS = {
    "account_id": "Company_ID__gr.SfdcAccountId", "event_id": "Event_ID__gc",
    "event_type": "Event_Type__gc", "metric_name": "Metric_Name__gc",
    "value_current": "Value_Current__gc", "value_baseline": "Value_Baseline__gc",
    "delta_pct": "Delta_Pct__gc", "feature": "Feature__gc", "occurred_at": "Occurred_At__gc"}
STAKEHOLDER_OBJECT = "Stakeholder_Change__gc"
STAKEHOLDER_FIELDS = {
    "account_id": "Company_ID__gr.SfdcAccountId", "change_type": "Change_Type__gc",
    "role": "Role__gc", "is_champion": "Is_Champion__gc", "occurred_at": "Occurred_At__gc"}
# Off unless esd.toml names it: instances keep health in a custom object or Scorecard facts.
HEALTH_FIELDS = {
    "account_id": "Company_ID__gr.SfdcAccountId", "dau_mau": "Dau_Mau__gc",
    "feature_adoption": "Feature_Adoption__gc", "csat": "Csat__gc",
    "open_escalations": "Open_Escalations__gc", "exec_access": "Exec_Access__gc",
    "champion_active": "Champion_Active__gc", "nps": "Nps__gc", "seats_used": "Seats_Used__gc",
    "seats_licensed": "Seats_Licensed__gc"}
FIELD_TABLES = {"account_fields": ACCOUNT_FIELDS, "usage_fields": USAGE_FIELDS,
                "stakeholder_fields": STAKEHOLDER_FIELDS, "health_fields": HEALTH_FIELDS}

NO_DATA = ("GSOBJ_1011", "no data found", "no entity matches")
AUTH_CODES = ("GS_APIG_2401", "GSOBJ_1024")
# A filter value's time zone is undocumented: the server-side filter is a day wider on
# each side and the exact window is applied here.
FILTER_SLACK = timedelta(days=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
BAD_VALUE = (ValueError, TypeError, OverflowError)

log = logging.getLogger("esd.gainsight")
Name = Annotated[str, Field(min_length=1)]


class GainsightConfig(BaseModel):
    """Instance URL, access key, and the names of [gainsight] in esd.toml."""

    model_config = ConfigDict(extra="forbid")

    base_url: Name
    token: SecretStr
    account_object: Name = ACCOUNT_OBJECT
    account_fields: dict[str, Name] = Field(default_factory=lambda: dict(ACCOUNT_FIELDS))
    usage_object: Name = USAGE_OBJECT
    usage_fields: dict[str, Name] = Field(default_factory=lambda: dict(USAGE_FIELDS))
    stakeholder_object: Name | None = STAKEHOLDER_OBJECT  # None: the instance has none
    stakeholder_fields: dict[str, Name] = Field(default_factory=lambda: dict(STAKEHOLDER_FIELDS))
    health_object: Name | None = None  # e.g. "Company_Health__gc"; None: health not read
    health_fields: dict[str, Name] = Field(default_factory=lambda: dict(HEALTH_FIELDS))
    page_size: int = Field(PAGE_SIZE, ge=1, le=PAGE_SIZE)
    requests_per_minute: float = Field(REQUESTS_PER_MINUTE, gt=0)

    @field_validator("stakeholder_object", "health_object", mode="before")
    @classmethod
    def _none_when_off(cls, value: Any) -> Any:
        return None if value is False or value == "" else value

    @field_validator(*FIELD_TABLES, mode="before")
    @classmethod
    def _over_defaults(cls, value: Any, info) -> Any:
        """A table overrides single names; the others keep their defaults."""
        defaults = FIELD_TABLES[info.field_name]
        if not isinstance(value, Mapping):
            return value
        if unknown := sorted(set(value) - set(defaults)):
            raise ValueError(f"unknown key {', '.join(unknown)} (known: {', '.join(defaults)})")
        return {**defaults, **value}

    @classmethod
    def from_env(cls, env: Mapping[str, str], section: Mapping[str, Any]) -> GainsightConfig:
        """GAINSIGHT_URL (else esd.toml `base_url`) and GAINSIGHT_TOKEN from the
        environment; names from [gainsight] and its nested `[gainsight.*_fields]` tables."""
        base_url = setting(env, section, "GAINSIGHT_URL", "base_url")
        if not base_url:
            raise InputError("Gainsight: environment variable GAINSIGHT_URL is not set (the "
                             "instance URL, e.g. https://yourcompany.gainsightcloud.com)")
        token = secret(env, "GAINSIGHT_TOKEN", "Gainsight")
        try:
            return cls.model_validate({**section, "base_url": base_url, "token": token})
        except ValidationError as exc:
            problems = []
            for err in exc.errors(include_url=False):
                loc = err["loc"]
                key = (f"[gainsight.{loc[0]}] {loc[1]}" if len(loc) > 1 and loc[0] in FIELD_TABLES
                       else f"[gainsight] {'.'.join(map(str, loc))}")
                problems.append(f"esd.toml {key}: {err['msg']}")
            raise InputError("Gainsight: " + "; ".join(problems), problems) from None


def _meaning(body: Any) -> str | None:
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


def _failure(method: str, path: str, body: Any, status: int) -> SourceError:
    # errorDesc stays out: Gainsight's templates put record values in it.
    body = body if isinstance(body, dict) else {}
    detail = ", ".join(str(part) for part in (
        body.get("errorCode") or body.get("title"),
        body.get("requestId") and f"request id {body['requestId']}") if part)
    rejected = status in (401, 403) or _meaning(body) == "auth"
    what = ("rejected the credentials" if rejected
            else f"answered {status}" if status >= 400 else "failed")
    error = CredentialsRejected if rejected else SourceError
    return error(f"Gainsight: {method} {path} {what}" + (f" ({detail})" if detail else ""))


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
            meaning = _meaning(body)
            if meaning in ("no-data", "no-object") and status not in (401, 403):
                return body
            if meaning or status in (401, 403):
                raise _failure(method, path, body, status)
        return super().check_response(method, path, response)


def open_source(cfg: GainsightConfig, *, sleep: Callable[[float], None] = time.sleep,
                timeout: httpx.Timeout = DEFAULT_TIMEOUT) -> Source:
    """The instance as a read-only Source: the configured objects' query paths and
    describe only."""
    objects = (cfg.account_object, cfg.usage_object, cfg.stakeholder_object, cfg.health_object)
    paths = {QUERY_PATH.format(o) for o in objects if o} | {DESCRIBE_PATH}
    client = make_client(cfg.base_url, HeaderAuth("AccessKey", cfg.token.get_secret_value()),
                         timeout=timeout)
    return GainsightSource("Gainsight", client, query_paths=paths, sleep=sleep,
                           rate_limiter=RateLimiter(cfg.requests_per_minute / 60, sleep=sleep))


class _NoObject(Exception):
    pass


def _query(source: Source, cfg: GainsightConfig, obj: str, fields: Mapping[str, str],
           window: Window | None = None) -> list[dict]:
    """Every row of `obj` (near `window` on its occurred_at field), until a short page."""
    path, rows, last = QUERY_PATH.format(obj), [], None
    body: dict[str, Any] = {"select": list(dict.fromkeys(fields.values())),
                            "orderBy": {"Gsid": "asc"}, "limit": cfg.page_size}  # stable pages
    if window:
        def at(moment: datetime) -> str:
            return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        body["where"] = {"expression": "A AND B", "conditions": [
            {"name": fields["occurred_at"], "alias": "A", "operator": "GTE",
             "value": [at(window.start - FILTER_SLACK)]},
            {"name": fields["occurred_at"], "alias": "B", "operator": "LT",
             "value": [at(window.end + FILTER_SLACK)]}]}
    while True:
        answer = source.query(path, {**body, "offset": len(rows)})
        meaning = _meaning(answer)
        if meaning == "no-object":
            raise _NoObject(obj)
        if meaning not in (None, "no-data"):
            raise _failure("POST", path, answer, 200)
        data = answer.get("data") if isinstance(answer, dict) and meaning is None else None
        page = data.get("records") if isinstance(data, dict) else data
        if not isinstance(page, list | None) or not isinstance(answer, dict | None):
            raise SourceError(f"Gainsight: POST {path}: unexpected data shape")
        page = [row for row in page or [] if isinstance(row, dict)]
        if page and page == last:  # never loop forever on a server that ignores offset
            raise SourceError(f"Gainsight: POST {path} answered the same page twice")
        rows.extend(page)
        last = page
        if len(page) < cfg.page_size:
            return rows


def _no_object(cfg_key: str, obj: str) -> SourceError:
    return SourceError(f"Gainsight: the instance has no object {obj} (esd.toml [gainsight] "
                       f"{cfg_key}; `esd check` lists every misnamed object and field)")


def fetch_accounts(source: Source, cfg: GainsightConfig) -> Pulled[Account]:
    """Every company. A row without the id field, or that is no valid Account, is
    skipped and counted as `unmapped` (and logged with its reason)."""
    try:
        rows = _query(source, cfg, cfg.account_object, cfg.account_fields)
    except _NoObject:
        raise _no_object("account_object", cfg.account_object) from None
    pulled: Pulled[Account] = Pulled()
    seen: set[str] = set()
    for row in rows:
        try:
            account = _to_account(row, cfg)
        except BAD_VALUE as exc:
            log.warning("Gainsight: skipping a %s row: %s", cfg.account_object, _why(exc))
            account = None
        if account is None:
            pulled.unmapped += 1
        elif account.id in seen:
            log.warning("Gainsight: %s %s appears twice; keeping the first",
                        cfg.account_object, account.id)
        else:
            seen.add(account.id)
            pulled.records.append(account)
    return pulled


def fetch_usage(source: Source, cfg: GainsightConfig, window: Window,
                known_accounts: Collection[str]) -> Pulled[UsageEvent]:
    """Usage anomalies inside the window; those of unknown accounts dropped and counted."""
    try:
        rows = _query(source, cfg, cfg.usage_object, cfg.usage_fields, window)
    except _NoObject:
        raise _no_object("usage_object", cfg.usage_object) from None
    return _collect(rows, cfg.usage_fields, partial(_to_usage, cfg=cfg), window,
                    known_accounts, cfg.usage_object)


def fetch_stakeholder_changes(source: Source, cfg: GainsightConfig, lookback: Window,
                              known_accounts: Collection[str]
                              ) -> Pulled[StakeholderChange] | None:
    """Changes inside the look-back, or None when there is no stakeholder object
    (configured as none, or the instance answers that it does not exist)."""
    if not cfg.stakeholder_object:
        return None
    try:
        rows = _query(source, cfg, cfg.stakeholder_object, cfg.stakeholder_fields, lookback)
    except _NoObject:
        log.warning("Gainsight: the instance has no object %s: the champion guard cannot run",
                    cfg.stakeholder_object)
        return None
    return _collect(rows, cfg.stakeholder_fields, partial(_to_change, cfg=cfg), lookback,
                    known_accounts, cfg.stakeholder_object)


def _collect(rows: list[dict], fields: Mapping[str, str], to_record: Callable[[dict], Any],
             window: Window, known: Collection[str], obj: str) -> Pulled:
    """The exact window; unknown accounts counted; rows that fit no record logged."""
    pulled: Pulled = Pulled()
    for row in rows:
        try:
            if _field(row, fields, "occurred_at", _moment) not in window:
                continue
            if _field(row, fields, "account_id") not in known:
                pulled.unmapped += 1
                continue
            pulled.records.append(to_record(row))
        except BAD_VALUE as exc:
            log.warning("Gainsight: skipping a %s row: %s", obj, _why(exc))
    return pulled


def _why(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors(include_url=False)[0]
        return f"field {'.'.join(map(str, err['loc']))}: {err['msg']}"
    return str(exc)


# --- rows to records (flat keys: lookups come back as "Csm__gr.Email") ------------------


def _to_account(row: Mapping[str, Any], cfg: GainsightConfig) -> Account | None:
    """None when the row has no account id. A blank ARR counts as 0."""
    get = partial(_field, row, cfg.account_fields)
    if not (account_id := get("id")):
        return None
    try:
        return Account(id=account_id, name=get("name"), arr=get("arr", _number) or 0.0,
                       segment=get("segment"), tier=get("tier") or "",
                       owner_email=get("owner_email"), owner_name=get("owner_name"),
                       renewal_date=get("renewal_date", lambda v: _moment(v).date()))
    except BAD_VALUE as exc:
        raise ValueError(f"{account_id}: {_why(exc)}") from None


def _to_usage(row: Mapping[str, Any], cfg: GainsightConfig) -> UsageEvent:
    get = partial(_field, row, cfg.usage_fields)
    return UsageEvent(account_id=get("account_id"), event_type=get("event_type"),
                      metric_name=get("metric_name"), value_current=get("value_current", _number),
                      value_baseline=get("value_baseline", _number),
                      delta_pct=get("delta_pct", _number), occurred_at=get("occurred_at", _moment),
                      feature=get("feature"), event_id=get("event_id"))


def _to_change(row: Mapping[str, Any], cfg: GainsightConfig) -> StakeholderChange:
    """Change types may be labels: "New Hire" is new_hire."""
    get = partial(_field, row, cfg.stakeholder_fields)
    kind = get("change_type")
    return StakeholderChange(
        account_id=get("account_id"), role=get("role"), is_champion=get("is_champion", _flag),
        change_type=kind.lower().replace(" ", "_").replace("-", "_") if kind else None,
        occurred_at=get("occurred_at", _moment))


def _field(row: Mapping[str, Any], fields: Mapping[str, str], key: str,
           convert: Callable[[Any], Any] | None = None) -> Any:
    """One mapped value, converted (default: text); an error names the field."""
    name = fields[key]
    # A lookup column may come back in another case than selected ("csm__gr.email").
    value = row[name] if name in row else next(
        (v for k, v in row.items() if k.lower() == name.lower()), None)
    try:
        return (convert or _text)(value)
    except BAD_VALUE as exc:
        raise ValueError(f"field {key} ({name}): {exc}") from None


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value).strip()


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    return None if value is None or value == "" else float(value)


def _flag(value: Any) -> bool:
    text = str(value or "").strip().lower()
    if text not in ("true", "yes", "1", "false", "no", "0", ""):
        raise ValueError(f"not a boolean: {value!r}")
    return text in ("true", "yes", "1")


def _moment(value: Any) -> datetime:
    """Epoch milliseconds (as Gainsight answers) or ISO 8601, as a UTC datetime."""
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return EPOCH + timedelta(milliseconds=value)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"not a date: {value!r}")
    moment = datetime.fromisoformat(value.strip())
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


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
    if (meaning := _meaning(answer)) not in (None, "no-object"):
        raise _failure("POST", DESCRIBE_PATH, answer, 200)
    data = answer.get("data") if meaning is None and isinstance(answer, dict) else None
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
