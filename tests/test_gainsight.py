"""The Gainsight connector against a fake instance on 127.0.0.1 serving the demo."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import httpx
import pytest
from conftest import fake_fixture
from fakes.gainsight import DEMO, HEALTH_OBJECT, TOKEN, FakeGainsight

from esd.connectors import gainsight as gs
from esd.connectors import gainsight_health as gh
from esd.connectors.files import load_portfolio
from esd.errors import InputError, SourceError
from esd.models import Window

WINDOW = Window(start=datetime(2026, 11, 16, tzinfo=UTC), end=datetime(2026, 11, 23, tzinfo=UTC))
LOOKBACK = Window(start=datetime(2026, 10, 24, tzinfo=UTC), end=WINDOW.end)
QUERY_COMPANY = "/v1/data/objects/query/Company"


@pytest.fixture(scope="module")
def demo():
    return load_portfolio(DEMO)


api = fake_fixture(FakeGainsight)


@pytest.fixture
def known(demo):
    return {a.id for a in demo.accounts}


OPENED: list = []


def connect(api, token=TOKEN, **overrides):
    """A config and Source for the fake; waits are recorded in `source.waits`."""
    cfg = gs.GainsightConfig(base_url=api.url, token=token, **overrides)
    waits: list[float] = []
    source = gs.open_source(cfg, sleep=waits.append, timeout=httpx.Timeout(2.0))
    source.waits = waits
    OPENED.append(source)
    return source, cfg


@pytest.fixture(autouse=True)
def _close():
    yield
    while OPENED:
        OPENED.pop().close()


def queries(api, obj=None):
    prefix = "/v1/data/objects/query/" + (obj or "")
    return [r.body for r in api.log if r.path.startswith(prefix)]


# --- the demo round trip --------------------------------------------------------------


def test_accounts_equal_the_demo(api, demo):
    source, cfg = connect(api)
    pulled = gs.fetch_accounts(source, cfg)
    assert pulled.records == demo.accounts and pulled.unmapped == 0
    assert any(a.owner_name is None for a in pulled.records)  # null lookup kept as None


def test_usage_equals_the_demo_window(api, demo, known):
    source, cfg = connect(api)
    pulled = gs.fetch_usage(source, cfg, WINDOW, known)
    expected = [e for e in demo.usage_events if e.occurred_at in WINDOW]
    assert 0 < len(expected) < len(demo.usage_events)
    assert pulled.records == expected and pulled.unmapped == 0
    where = queries(api, "Usage_Anomaly__gc")[0]["where"]  # filtered on the server too
    assert {c["name"] for c in where["conditions"]} == {"Occurred_At__gc"}
    assert [c["operator"] for c in where["conditions"]] == ["GTE", "LT"]


def test_changes_equal_the_demo_lookback(api, demo, known):
    source, cfg = connect(api)
    pulled = gs.fetch_stakeholder_changes(source, cfg, LOOKBACK, known)
    expected = [c for c in demo.stakeholder_changes if c.occurred_at in LOOKBACK]
    assert 0 < len(expected) < len(demo.stakeholder_changes)
    assert pulled.records == expected and pulled.unmapped == 0
    assert {c.change_type for c in pulled.records} == {"new_hire", "departure"}


def test_window_applied_client_side_when_server_ignores_where(api, demo, known):
    api.ignore_where = True
    source, cfg = connect(api)
    pulled = gs.fetch_usage(source, cfg, WINDOW, known)
    assert pulled.records == [e for e in demo.usage_events if e.occurred_at in WINDOW]
    assert pulled.unmapped == 0  # out-of-window rows are not "unmapped"


# --- paging, shapes, empty answers ----------------------------------------------------


@pytest.mark.parametrize("page_size", [50, 107])  # 214 accounts: a short last page, or none
def test_pages_until_a_short_page(api, demo, page_size):
    source, cfg = connect(api, page_size=page_size)
    assert gs.fetch_accounts(source, cfg).records == demo.accounts
    sent = queries(api)
    pages = len(demo.accounts) // page_size + 1
    assert [b["offset"] for b in sent] == [i * page_size for i in range(pages)]
    assert {b["limit"] for b in sent} == {page_size}


@pytest.mark.parametrize("shape", ["list", "records"])
def test_both_response_shapes(api, demo, known, shape):
    api.shape = shape
    source, cfg = connect(api)
    assert gs.fetch_accounts(source, cfg).records == demo.accounts
    assert len(gs.fetch_usage(source, cfg, WINDOW, known).records) > 0


@pytest.mark.parametrize("no_data", ["result-false", "http-400", "records"])
def test_no_data_answers_are_zero_rows(api, known, no_data):
    api.no_data = no_data
    source, cfg = connect(api)
    quiet = Window(start=datetime(2020, 1, 1, tzinfo=UTC), end=datetime(2020, 1, 8, tzinfo=UTC))
    usage = gs.fetch_usage(source, cfg, quiet, known)
    changes = gs.fetch_stakeholder_changes(source, cfg, quiet, known)
    assert (usage.records, usage.unmapped) == ([], 0)
    assert changes is not None and changes.records == []


# --- stakeholder object optional ------------------------------------------------------


@pytest.mark.parametrize("setting", ["", False, None])
def test_no_stakeholder_object_configured(api, known, setting):
    source, cfg = connect(api, stakeholder_object=setting)
    assert gs.fetch_stakeholder_changes(source, cfg, LOOKBACK, known) is None
    assert api.log == []
    assert "/v1/data/objects/query/Stakeholder_Change__gc" not in source.query_paths


def test_instance_without_stakeholder_object(api, known, caplog):
    del api.tables["Stakeholder_Change__gc"], api.schema["Stakeholder_Change__gc"]
    source, cfg = connect(api)
    assert gs.fetch_stakeholder_changes(source, cfg, LOOKBACK, known) is None
    assert len(api.log) == 1 and "champion guard cannot run" in caplog.text


def test_missing_usage_object_is_a_source_error(api, known):
    source, cfg = connect(api, usage_object="Usage_Data__gc")
    with pytest.raises(SourceError, match=r"no object Usage_Data__gc \(esd.toml \[gainsight\] "
                                          r"usage_object"):
        gs.fetch_usage(source, cfg, WINDOW, known)


# --- mapping to known accounts --------------------------------------------------------


def test_unknown_accounts_dropped_and_counted(api, demo):
    source, cfg = connect(api)
    in_window = [e for e in demo.usage_events if e.occurred_at in WINDOW]
    dropped = {in_window[0].account_id, in_window[-1].account_id}
    known = {a.id for a in demo.accounts} - dropped
    pulled = gs.fetch_usage(source, cfg, WINDOW, known)
    assert pulled.records == [e for e in in_window if e.account_id not in dropped]
    assert pulled.unmapped == sum(e.account_id in dropped for e in in_window) >= 2


def test_company_without_id_is_skipped_and_counted(api, demo, caplog):
    api.tables["Company"].append({"Gsid": "1P0Z", "Name": "No Id Inc", "Arr": 1.0,
                                  "RenewalDate": 0, "Segment__gc": "smb"})
    bad = dict(api.tables["Company"][0], Gsid="1P0Y", SfdcAccountId="001BAD", RenewalDate=None)
    api.tables["Company"].append(bad)
    source, cfg = connect(api)
    pulled = gs.fetch_accounts(source, cfg)
    assert pulled.records == demo.accounts and pulled.unmapped == 2
    assert "001BAD: field renewal_date (RenewalDate): not a date: None" in caplog.text


def test_row_mappers():
    cfg = gs.GainsightConfig(base_url="http://x", token="t")
    row = {"SfdcAccountId": "001A", "Name": "Acme", "Arr": None, "RenewalDate": 1521743018667,
           "Segment__gc": "smb", "Tier__gc": None, "csm__gr.email": "a@x.com"}
    account = gs.to_account(row, cfg)
    assert (account.arr, account.tier, account.renewal_date) == (0.0, "", date(2018, 3, 22))
    assert account.owner_email == "a@x.com" and account.owner_name is None
    change = gs.to_change({"Company_ID__gr.SfdcAccountId": "001A", "Change_Type__gc": "New Hire",
                            "Role__gc": "CTO", "Is_Champion__gc": "true",
                            "Occurred_At__gc": 1763251200000}, cfg)
    assert (change.change_type, change.is_champion) == ("new_hire", True)
    assert change.occurred_at == datetime(2025, 11, 16, tzinfo=UTC)
    usage = gs.to_usage({"Company_ID__gr.SfdcAccountId": "001A", "Event_Type__gc": "e",
                          "Metric_Name__gc": "m", "Value_Current__gc": 3, "Delta_Pct__gc": "25.5",
                          "Occurred_At__gc": "2026-11-16T10:00:00+02:00"}, cfg)
    assert (usage.value_current, usage.value_baseline, usage.delta_pct) == (3.0, None, 25.5)
    assert usage.occurred_at == datetime(2026, 11, 16, 8, tzinfo=UTC)


# --- the optional health object -------------------------------------------------------


def test_health_equals_the_demo(api, demo, known):
    source, cfg = connect(api, health_object=HEALTH_OBJECT)
    pulled = gh.fetch_health(source, cfg, known)
    assert pulled.records == demo.health and pulled.unmapped == 0
    assert any(h.nps is None for h in pulled.records)  # a null value stays None
    [body] = queries(api, HEALTH_OBJECT)
    assert body["select"] == list(gs.HEALTH_FIELDS.values()) and "where" not in body


@pytest.mark.parametrize("setting", [None, "", False])
def test_health_is_off_by_default(api, known, setting):
    source, cfg = connect(api) if setting is None else connect(api, health_object=setting)
    assert cfg.health_object is None
    assert gh.fetch_health(source, cfg, known) is None
    assert api.log == []
    assert f"/v1/data/objects/query/{HEALTH_OBJECT}" not in source.query_paths
    assert gs.describe_problems(source, cfg) == []
    assert HEALTH_OBJECT not in str([r.body for r in api.log])  # not described either


def test_health_values_converted():
    fields = gs.HEALTH_FIELDS
    record = gh.to_health({"Company_ID__gr.SfdcAccountId": "001A", "Dau_Mau__gc": "0.52",
                           "Feature_Adoption__gc": 1, "Csat__gc": "4", "Open_Escalations__gc": 2.0,
                           "Exec_Access__gc": "true", "Champion_Active__gc": False,
                           "Nps__gc": "-20", "Seats_Used__gc": "27", "Seats_Licensed__gc": None,
                           }, fields, HEALTH_OBJECT)
    assert record.model_dump() == {
        "account_id": "001A", "dau_mau": 0.52, "feature_adoption": 1.0, "csat": 4.0,
        "open_escalations": 2, "exec_access": True, "champion_active": False, "nps": -20.0,
        "seats_used": 27, "seats_licensed": None}
    bare = gh.to_health({"company_id__gr.sfdcaccountid": "001B", "Csat__gc": ""}, fields,
                        HEALTH_OBJECT)  # columns absent, empty or in another case
    assert bare.account_id == "001B"
    assert bare.model_dump(exclude={"account_id"}, exclude_none=True) == {}


@pytest.mark.parametrize(("field", "value", "message"), [
    ("Dau_Mau__gc", 1.4, "field dau_mau (Dau_Mau__gc): Input should be less than or equal to 1 "
                         "(got 1.4)"),
    ("Nps__gc", "300", "field nps (Nps__gc): Input should be less than or equal to 100 "
                       "(got 300.0)"),
    ("Open_Escalations__gc", 2.5, "field open_escalations (Open_Escalations__gc): not a whole "
                                  "number: 2.5"),
    ("Exec_Access__gc", "maybe", "field exec_access (Exec_Access__gc): not a boolean: 'maybe'"),
])
def test_bad_health_value_is_an_error_naming_the_record(api, known, field, value, message):
    row = api.tables[HEALTH_OBJECT][3]
    row[field] = value
    source, cfg = connect(api, health_object=HEALTH_OBJECT)
    with pytest.raises(SourceError) as exc:
        gh.fetch_health(source, cfg, known)
    account = row["Company_ID__gr.SfdcAccountId"]
    assert str(exc.value) == f"Gainsight: {HEALTH_OBJECT} record {account}: {message}"


def test_health_of_unknown_accounts_dropped_and_counted(api, demo, known, caplog):
    rows = api.tables[HEALTH_OBJECT]
    rows.append(dict(rows[0], Gsid="1P0Z1", Dau_Mau__gc=0.99))  # a second row: first kept
    rows.append(dict(rows[0], Gsid="1P0Z2", **{"Company_ID__gr.SfdcAccountId": None}))
    source, cfg = connect(api, health_object=HEALTH_OBJECT)
    dropped = demo.health[1].account_id
    pulled = gh.fetch_health(source, cfg, known - {dropped})
    assert pulled.records == [h for h in demo.health if h.account_id != dropped]
    assert pulled.unmapped == 2
    assert f"{HEALTH_OBJECT} has a second row for {demo.health[0].account_id}" in caplog.text


def test_health_field_overrides(api, demo, known):
    api.schema[HEALTH_OBJECT]["DAU_MAU_Ratio__gc"] = api.schema[HEALTH_OBJECT].pop("Dau_Mau__gc")
    for row in api.tables[HEALTH_OBJECT]:
        row["DAU_MAU_Ratio__gc"] = row.pop("Dau_Mau__gc")
    section = {"health_object": HEALTH_OBJECT, "health_fields": {"dau_mau": "DAU_MAU_Ratio__gc"}}
    from_toml = gs.GainsightConfig.from_env(ENV, section)
    assert from_toml.health_fields == {**gs.HEALTH_FIELDS, "dau_mau": "DAU_MAU_Ratio__gc"}
    source, cfg = connect(api, **section)
    assert gh.fetch_health(source, cfg, known).records == demo.health
    assert "DAU_MAU_Ratio__gc" in queries(api, HEALTH_OBJECT)[0]["select"]
    assert gs.describe_problems(source, cfg) == []


def test_bad_health_toml_names_the_key():
    with pytest.raises(InputError) as exc:
        gs.GainsightConfig.from_env(ENV, {"health_object": HEALTH_OBJECT,
                                          "health_fields": {"dau": "Dau__gc"}})
    assert exc.value.problems == [
        "esd.toml [gainsight]: health_fields: unknown key dau (known: account_id, "
        "dau_mau, feature_adoption, csat, open_escalations, exec_access, champion_active, nps, "
        "seats_used, seats_licensed)"]


def test_missing_health_object_is_a_source_error(api, known):
    del api.tables[HEALTH_OBJECT]
    source, cfg = connect(api, health_object=HEALTH_OBJECT)
    with pytest.raises(SourceError, match=rf"no object {HEALTH_OBJECT} \(esd.toml \[gainsight\] "
                                          r"health_object"):
        gh.fetch_health(source, cfg, known)


# --- failures -------------------------------------------------------------------------


def test_429_is_retried(api, demo):
    api.fail_next(QUERY_COMPANY, 429, headers={"Retry-After": "3"})
    api.fail_next(QUERY_COMPANY, 503)
    source, cfg = connect(api)
    assert gs.fetch_accounts(source, cfg).records == demo.accounts
    assert 3.0 in source.waits and len(queries(api)) == 3


def test_rejected_key_names_gainsight_not_the_token(api, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-" + TOKEN
    source, cfg = connect(api, token=wrong)
    with pytest.raises(SourceError) as exc:
        gs.fetch_accounts(source, cfg)
    assert str(exc.value) == (f"Gainsight: POST {QUERY_COMPANY} rejected the credentials "
                              "(GS_APIG_2401, request id req-401)")
    assert len(api.log) == 1 and wrong not in caplog.text


def test_invalid_auth_headers_400(api):
    api.fail_next(QUERY_COMPANY, 400, body={"result": False, "errorCode": "GSOBJ_1024",
                                            "errorDesc": "Invalid authorization headers"})
    source, cfg = connect(api)
    with pytest.raises(SourceError, match="rejected the credentials .GSOBJ_1024"):
        gs.fetch_accounts(source, cfg)


def test_misnamed_field_fails_with_the_code(api):
    source, cfg = connect(api, account_fields={"arr": "Arr__gc"})
    with pytest.raises(SourceError, match=r"answered 400 \(GSOBJ_1002, request id req-400\)"):
        gs.fetch_accounts(source, cfg)


def test_result_false_with_another_code_fails(api):
    api.fail_next(QUERY_COMPANY, 200, body={"result": False, "errorCode": "GSOBJ_1007",
                                            "errorDesc": "Invalid field value (Name = Acme)",
                                            "requestId": "r-7"})
    source, cfg = connect(api)
    with pytest.raises(SourceError) as exc:
        gs.fetch_accounts(source, cfg)
    assert str(exc.value) == f"Gainsight: POST {QUERY_COMPANY} failed (GSOBJ_1007, request id r-7)"


def test_only_query_and_describe_posts(api, known):
    source, cfg = connect(api)
    gs.fetch_accounts(source, cfg)
    gs.fetch_usage(source, cfg, WINDOW, known)
    gs.fetch_stakeholder_changes(source, cfg, LOOKBACK, known)
    gs.describe_problems(source, cfg)
    assert {(r.method, r.path) for r in api.log} == {
        ("POST", "/v1/data/objects/query/Company"),
        ("POST", "/v1/data/objects/query/Usage_Anomaly__gc"),
        ("POST", "/v1/data/objects/query/Stakeholder_Change__gc"),
        ("POST", "/v1/meta/services/objects/describe")}
    assert all(r.headers.get("accesskey") == TOKEN for r in api.log)


def test_rate_limit_spacing(api):
    source, _ = connect(api)
    assert source.rate_limiter.interval == pytest.approx(0.6)  # 100 a minute
    for _ in range(3):
        gs.describe_problems(source, gs.GainsightConfig(base_url=api.url, token=TOKEN))
    # The recorded sleep does not move the clock, so each wait is one interval longer.
    assert len(source.waits) == source.requests - 1 and 0 < source.waits[0] <= 0.6


# --- configuration --------------------------------------------------------------------

ENV = {"GAINSIGHT_URL": "https://acme.gainsightcloud.com", "GAINSIGHT_TOKEN": "tok-123456"}


@pytest.mark.parametrize("missing", ["GAINSIGHT_URL", "GAINSIGHT_TOKEN"])
def test_missing_variable_is_named(missing):
    env = {k: v for k, v in ENV.items() if k != missing}
    with pytest.raises(InputError, match=missing) as exc:
        gs.GainsightConfig.from_env(env, {})
    assert "tok-123456" not in str(exc.value)


def test_toml_overrides_single_names_and_env_wins():
    section = {"base_url": "https://from-toml.example.com", "usage_object": "Usage__gc",
               "account_fields": {"arr": "ARR__gc"}, "stakeholder_object": False,
               "page_size": 1000}
    cfg = gs.GainsightConfig.from_env(ENV, section)
    assert cfg.base_url == ENV["GAINSIGHT_URL"] and cfg.token.get_secret_value() == "tok-123456"
    assert cfg.account_fields == {**gs.ACCOUNT_FIELDS, "arr": "ARR__gc"}
    assert cfg.usage_fields == gs.USAGE_FIELDS and cfg.usage_object == "Usage__gc"
    assert cfg.stakeholder_object is None and cfg.page_size == 1000
    only_toml = gs.GainsightConfig.from_env({"GAINSIGHT_TOKEN": "x"}, section)
    assert only_toml.base_url == "https://from-toml.example.com"


def test_bad_toml_names_the_key():
    with pytest.raises(InputError) as exc:
        gs.GainsightConfig.from_env(ENV, {"usage_fields": {"delta": "D__gc"}, "page_size": 9000})
    assert exc.value.problems == [
        "esd.toml [gainsight]: usage_fields: unknown key delta (known: account_id, "
        "event_id, event_type, metric_name, value_current, value_baseline, delta_pct, feature, "
        "occurred_at)",
        "esd.toml [gainsight]: page_size: Input should be less than or equal to 5000"]


# --- describe (esd check) -------------------------------------------------------------


def test_describe_finds_nothing_wrong_with_the_defaults(api):
    source, cfg = connect(api)
    assert gs.describe_problems(source, cfg) == []


def test_describe_reports_misnamed_fields_and_objects(api):
    source, cfg = connect(api, usage_fields={"delta_pct": "Delta_Pct__gc2"},
                          account_fields={"owner_email": "Csm__gr.Mail", "tier": "Csm__gr"},
                          stakeholder_object="Champions__gc")
    assert gs.describe_problems(source, cfg) == [
        "Gainsight: object Company has no field Csm__gr (esd.toml [gainsight.account_fields] "
        "tier)",
        "Gainsight: object Company has no field Csm__gr.Mail (esd.toml "
        "[gainsight.account_fields] owner_email)",
        "Gainsight: object Usage_Anomaly__gc has no field Delta_Pct__gc2 (esd.toml "
        "[gainsight.usage_fields] delta_pct)",
        'Gainsight: no object Champions__gc (esd.toml [gainsight] stakeholder_object; set it '
        'to "" if the instance has none)']


def test_describe_validates_the_health_object_when_configured(api):
    source, cfg = connect(api, health_object=HEALTH_OBJECT, health_fields={
        "nps": "NPS_Score__gc", "account_id": "Company_ID__gr.SfdcId"})
    assert gs.describe_problems(source, cfg) == [
        f"Gainsight: object {HEALTH_OBJECT} has no field Company_ID__gr.SfdcId (esd.toml "
        "[gainsight.health_fields] account_id)",
        f"Gainsight: object {HEALTH_OBJECT} has no field NPS_Score__gc (esd.toml "
        "[gainsight.health_fields] nps)"]
    source, cfg = connect(api, health_object="Health__gc")
    assert gs.describe_problems(source, cfg) == [
        'Gainsight: no object Health__gc (esd.toml [gainsight] health_object; set it to "" if '
        'the instance has none)']


@pytest.mark.parametrize("body", [
    "null", "[]", '"x"', '{"result": true, "data": [',
    '{"result": true, "requestId": "r1"}',  # no data: not "no rows"
    '{"result": true, "data": null}', '{"result": true, "data": {"records": null}}',
    '{"result": true, "data": [1, 2]}',
])
def test_an_unreadable_query_answer_is_a_source_error_not_zero_rows(api, body):
    api.fail_next(QUERY_COMPANY, 200, body=body)
    source, cfg = connect(api)
    with pytest.raises(SourceError) as exc:
        gs.fetch_accounts(source, cfg)
    assert (exc.value.source, exc.value.endpoint, exc.value.exit_code) == (
        "Gainsight", f"POST {QUERY_COMPANY}", 4)
