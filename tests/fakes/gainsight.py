"""A fake Gainsight CS instance: the query and describe endpoints over esd records.

It speaks the wire format of ../shared/api-notes.md §2: the `AccessKey` header (401 with
GS_APIG_2401 otherwise), `POST /v1/data/objects/query/{object}` with select / where
(EQ, NE, IN, GT, GTE, LT, LTE, BTW, IS_NULL, IS_NOT_NULL joined by AND / OR) / orderBy /
limit (at most 5,000) / offset, dates as epoch milliseconds, lookups as flat dotted keys,
and `POST /v1/meta/services/objects/describe`. Objects: Company, GsUser,
Usage_Anomaly__gc, and when given Stakeholder_Change__gc and Company_Health__gc (the demo
serves both). Knobs, restored by `reset()`:

    api.shape = "list" | "records"          # data: [...] or data: {records: [...]}
    api.no_data = "result-false" | "http-400" | "records"   # how an empty page answers
    api.ignore_where = True                 # a server that filters nothing
    api.tables / api.schema                 # drop an object, add a bad row, ...
"""

from __future__ import annotations

import copy
import re
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from esd.connectors.files import load_portfolio
from esd.models import Account, HealthRecord, StakeholderChange, UsageEvent
from fakes.server import FakeAPI, Request, Response

TOKEN = "gs-fake-access-key-7f3a"
DEMO = Path(__file__).resolve().parents[2] / "examples" / "portfolio"
QUERY = "/v1/data/objects/query/{object}"
DESCRIBE = "/v1/meta/services/objects/describe"
MAX_LIMIT = 5000
HEALTH_OBJECT = "Company_Health__gc"  # served; esd reads it only when esd.toml names it

# object -> field -> data type; ("LOOKUP", lookupName, target) for lookups
SCHEMA: dict[str, dict[str, Any]] = {
    "Company": {"Gsid": "GSID", "SfdcAccountId": "STRING", "Name": "STRING",
                "Arr": "CURRENCY", "RenewalDate": "DATE", "Segment__gc": "STRING",
                "Tier__gc": "STRING", "Csm": ("LOOKUP", "Csm__gr", "GsUser")},
    "GsUser": {"Gsid": "GSID", "Name": "STRING", "Email": "EMAIL"},
    "Usage_Anomaly__gc": {
        "Gsid": "GSID", "Company_ID__gc": ("LOOKUP", "Company_ID__gr", "Company"),
        "Event_ID__gc": "STRING", "Event_Type__gc": "STRING", "Metric_Name__gc": "STRING",
        "Value_Current__gc": "NUMBER", "Value_Baseline__gc": "NUMBER",
        "Delta_Pct__gc": "PERCENTAGE", "Feature__gc": "STRING", "Department__gc": "STRING",
        "Occurred_At__gc": "DATETIME"},
    "Stakeholder_Change__gc": {
        "Gsid": "GSID", "Company_ID__gc": ("LOOKUP", "Company_ID__gr", "Company"),
        "Change_Type__gc": "STRING", "Role__gc": "STRING", "Is_Champion__gc": "BOOLEAN",
        "Occurred_At__gc": "DATETIME"},
    HEALTH_OBJECT: {
        "Gsid": "GSID", "Company_ID__gc": ("LOOKUP", "Company_ID__gr", "Company"),
        "Dau_Mau__gc": "NUMBER", "Feature_Adoption__gc": "NUMBER", "Csat__gc": "NUMBER",
        "Open_Escalations__gc": "NUMBER", "Exec_Access__gc": "BOOLEAN",
        "Champion_Active__gc": "BOOLEAN", "Nps__gc": "NUMBER", "Seats_Used__gc": "NUMBER",
        "Seats_Licensed__gc": "NUMBER"},
}


def epoch_ms(moment: datetime | date) -> int:
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(), tzinfo=UTC)
    return round(moment.timestamp() * 1000)


def gainsight_from_portfolio(accounts: list[Account], usage_events: list[UsageEvent],
                             stakeholder_changes: list[StakeholderChange] | None,
                             health: list[HealthRecord] | None = None
                             ) -> dict[str, list[dict]]:
    """Rows per object, as the instance stores them (lookup columns flattened; a missing
    health value is null)."""
    def gsid(prefix: str, i: int) -> str:
        return f"1P0{prefix}{i:08d}"

    companies = [{"Gsid": gsid("C", i), "SfdcAccountId": a.id, "Name": a.name, "Arr": a.arr,
                  "RenewalDate": epoch_ms(a.renewal_date), "Segment__gc": a.segment,
                  "Tier__gc": a.tier, "Csm__gr.Email": a.owner_email,
                  "Csm__gr.Name": a.owner_name} for i, a in enumerate(accounts)]
    usage = [{"Gsid": gsid("U", i), "Company_ID__gr.SfdcAccountId": e.account_id,
              "Event_ID__gc": e.event_id, "Event_Type__gc": e.event_type,
              "Metric_Name__gc": e.metric_name, "Value_Current__gc": e.value_current,
              "Value_Baseline__gc": e.value_baseline, "Delta_Pct__gc": e.delta_pct,
              "Feature__gc": e.feature, "Occurred_At__gc": epoch_ms(e.occurred_at)}
             for i, e in enumerate(usage_events)]
    tables = {"Company": companies, "Usage_Anomaly__gc": usage}
    if stakeholder_changes is not None:
        tables["Stakeholder_Change__gc"] = [
            {"Gsid": gsid("S", i), "Company_ID__gr.SfdcAccountId": c.account_id,
             "Change_Type__gc": c.change_type.replace("_", " ").title(),  # "New Hire"
             "Role__gc": c.role, "Is_Champion__gc": c.is_champion,
             "Occurred_At__gc": epoch_ms(c.occurred_at)}
            for i, c in enumerate(stakeholder_changes)]
    if health is not None:
        tables[HEALTH_OBJECT] = [
            {"Gsid": gsid("H", i), "Company_ID__gr.SfdcAccountId": h.account_id,
             "Dau_Mau__gc": h.dau_mau, "Feature_Adoption__gc": h.feature_adoption,
             "Csat__gc": h.csat, "Open_Escalations__gc": h.open_escalations,
             "Exec_Access__gc": h.exec_access, "Champion_Active__gc": h.champion_active,
             "Nps__gc": h.nps, "Seats_Used__gc": h.seats_used,
             "Seats_Licensed__gc": h.seats_licensed}
            for i, h in enumerate(health)]
    return tables


def demo_tables() -> dict[str, list[dict]]:
    p = load_portfolio(DEMO)
    return gainsight_from_portfolio(p.accounts, p.usage_events, p.stakeholder_changes, p.health)


class FakeGainsight(FakeAPI):
    def __init__(self, tables: dict[str, list[dict]] | None = None) -> None:
        super().__init__("gainsight")
        self._pristine = tables if tables is not None else demo_tables()
        self.route("POST", QUERY)(self._query)
        self.route("POST", DESCRIBE)(self._describe)
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.tables = copy.deepcopy(self._pristine)
        self.schema = copy.deepcopy(SCHEMA)
        for optional in ("Stakeholder_Change__gc", HEALTH_OBJECT):
            if optional not in self.tables:
                del self.schema[optional]
        self.shape, self.no_data, self.ignore_where = "list", "result-false", False

    # --- helpers ----------------------------------------------------------------------

    def _object(self, name: str) -> str | None:
        return next((o for o in self.schema if o.lower() == name.lower()), None)

    def _columns(self, obj: str) -> dict[str, str]:
        """Selectable column (lower case) -> data type, lookups one level deep."""
        columns = {}
        for name, kind in self.schema[obj].items():
            if isinstance(kind, tuple):
                _, lookup, target = kind
                columns |= {f"{lookup}.{f}".lower(): t for f, t in self.schema[target].items()
                            if not isinstance(t, tuple)}
            else:
                columns[name.lower()] = kind
        return columns

    def _ok(self, rows: list[dict]) -> Response:
        data = rows if self.shape == "list" else {"records": rows}
        return Response(200, {"result": True, "errorCode": None, "errorDesc": None,
                              "requestId": "req-ok", "data": data, "message": None})

    # --- routes -------------------------------------------------------------------------

    def _authorized(self, request: Request) -> Response | None:
        if request.headers.get("accesskey") == TOKEN:
            return None
        return Response(401, {"result": False, "errorCode": "GS_APIG_2401",
                              "errorDesc": "Unauthorized", "requestId": "req-401",
                              "message": "Unauthorized"})

    def _query(self, request: Request, params: dict[str, str]) -> Response:
        if denied := self._authorized(request):
            return denied
        obj = self._object(params["object"])
        if obj is None or obj not in self.tables:
            return _error(400, None, "Requested object not found.", title="OBJECT_NOT_FOUND")
        body = request.body if isinstance(request.body, dict) else {}
        columns = self._columns(obj)
        select = body.get("select") or []
        limit, offset = body.get("limit", 100), body.get("offset", 0)
        if not isinstance(limit, int) or not 0 < limit <= MAX_LIMIT:
            return _error(400, "GSOBJ_1008", f"limit must be 1..{MAX_LIMIT}")
        if any(not isinstance(s, str) or s.lower() not in columns for s in select):
            return _error(400, "GSOBJ_1002", "Invalid field, please re-check data mapping")
        rows = self.tables[obj]
        if body.get("where") and not self.ignore_where:
            try:
                rows = [r for r in rows if _matches(r, body["where"], columns)]
            except ValueError as exc:
                return _error(400, "GSOBJ_1005", f"Invalid dateTime format ({exc})")
        for name, direction in reversed(list((body.get("orderBy") or {}).items())):
            rows = sorted(rows, key=lambda r, n=name: (_value(r, n) is None, _value(r, n)),
                          reverse=str(direction).lower() == "desc")
        page = [{s: _value(r, s) for s in select} for r in rows[offset:offset + limit]]
        if page or self.no_data == "records":
            return self._ok(page)
        if self.no_data == "http-400":
            return _error(400, "GSOBJ_1011", "No entity matches the given criteria")
        return _error(200, "GSOBJ_1XXX", "No data found for given criteria")

    def _describe(self, request: Request, params: dict[str, str]) -> Response:
        if denied := self._authorized(request):
            return denied
        names = (request.body or {}).get("objectNames") or []
        found = [self._object(n) for n in names]
        if not names or None in found:
            return _error(400, None, "Requested object not found.", title="OBJECT_NOT_FOUND")
        return self._ok([{"objectName": obj, "label": obj.replace("__gc", ""),
                          "fields": [_field_meta(obj, name, kind)
                                     for name, kind in self.schema[obj].items()]}
                         for obj in found])


def _error(status: int, code: str | None, desc: str, title: str | None = None) -> Response:
    body = {"result": False, "errorCode": code, "errorDesc": desc, "requestId": f"req-{status}",
            "data": None, "message": None}
    if title:
        body["title"] = title
    return Response(status, body)


def _field_meta(obj: str, name: str, kind: Any) -> dict:
    if not isinstance(kind, tuple):
        return {"fieldName": name, "label": name, "dataType": kind, "objectName": obj,
                "meta": {"hasLookup": False}}
    _, lookup, target = kind
    return {"fieldName": name, "label": name, "dataType": "LOOKUP", "objectName": obj,
            "meta": {"hasLookup": True, "lookupDetail": {
                "lookupName": lookup, "fieldName": "Gsid",
                "lookupObjects": [{"objectName": target.lower(), "label": target}]}}}


def _value(row: dict, name: str) -> Any:
    return next((v for k, v in row.items() if k.lower() == name.lower()), None)


_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%m-%d-%Y")


def _filter_value(value: Any, kind: str) -> Any:
    """A filter value as the stored form: dates (UTC assumed) become epoch ms."""
    if kind not in ("DATE", "DATETIME") or isinstance(value, int | float):
        return value
    for fmt in _DATE_FORMATS:
        try:
            return epoch_ms(datetime.strptime(str(value), fmt).replace(tzinfo=UTC))
        except ValueError:
            continue
    raise ValueError(f"{value!r}")


def _matches(row: dict, where: dict, columns: dict[str, str]) -> bool:
    results = {}
    for cond in where.get("conditions") or []:
        kind = columns.get(str(cond.get("name", "")).lower(), "STRING")
        have = _value(row, cond["name"])
        want = [_filter_value(v, kind) for v in cond.get("value") or []]
        op = str(cond.get("operator", "EQ")).upper()
        results[cond.get("alias") or f"_{len(results)}"] = _compare(op, have, want)
    expression = where.get("expression") or " AND ".join(results)
    tokens = re.findall(r"\w+", expression)
    value = results[tokens[0]]
    for op, alias in zip(tokens[1::2], tokens[2::2], strict=True):
        value = (value and results[alias]) if op.upper() == "AND" else (value or results[alias])
    return value


def _compare(op: str, have: Any, want: list) -> bool:
    if op in ("EQ", "NE", "IN", "IS_NULL", "IS_NOT_NULL"):
        return {"EQ": have == want[0] if want else False, "NE": bool(want) and have != want[0],
                "IN": have in want, "IS_NULL": have is None,
                "IS_NOT_NULL": have is not None}[op]
    if have is None:
        return False
    if op == "BTW":
        return want[0] <= have <= want[1]
    return {"GT": have > want[0], "GTE": have >= want[0], "LT": have < want[0],
            "LTE": have <= want[0]}[op]
