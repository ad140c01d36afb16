"""Ticket-system choice (contract §8), credential masking, the pull writer, and every
esd.toml section built and rejected one way."""

from __future__ import annotations

import json
import logging

import pytest
from conftest import ROOT

from esd.config import http_settings, ticket_system, usage_source
from esd.connectors import gainsight, gong, helpscout, intercom, zendesk
from esd.connectors.files import load_portfolio, portfolio_files
from esd.errors import InputError
from esd.redact import SecretFilter


@pytest.mark.parametrize("env, toml, expected", [
    ({}, {}, "none"),
    ({"ZENDESK_API_TOKEN": "t"}, {}, "zendesk"),
    ({"HELPSCOUT_APP_ID": "i", "HELPSCOUT_APP_SECRET": "s"}, {}, "helpscout"),
    ({"INTERCOM_ACCESS_TOKEN": "t", "ZENDESK_API_TOKEN": "t", "ESD_TICKET_SOURCE": "intercom"},
     {}, "intercom"),
    ({"INTERCOM_ACCESS_TOKEN": "t"}, {"ticket_source": "none"}, "none"),
    ({"ESD_TICKET_SOURCE": "none"}, {"ticket_source": "zendesk"}, "none"),  # env wins
])
def test_ticket_system_choice(env, toml, expected):
    assert ticket_system(env, toml) == expected


def test_two_ticket_systems_with_credentials_must_be_chosen():
    with pytest.raises(InputError, match="choose one with ESD_TICKET_SOURCE"):
        ticket_system({"INTERCOM_ACCESS_TOKEN": "t", "ZENDESK_OAUTH_TOKEN": "o"}, {})
    with pytest.raises(InputError, match="choose one of"):
        ticket_system({"ESD_TICKET_SOURCE": "freshdesk"}, {})
    with pytest.raises(InputError, match="choose gainsight or warehouse"):
        usage_source({"ESD_USAGE_SOURCE": "snowflake"}, {})


def test_secret_filter_masks_every_credential_value(caplog):
    env = {"GAINSIGHT_TOKEN": "gs-token-123456", "GONG_API_KEY": "keyAAAAAA:secretBBBBBB",
           "PATH": "/usr/bin"}
    logger = logging.getLogger("esd.test-redact")
    handler = logging.Handler()
    records: list[str] = []
    handler.emit = lambda r: records.append(r.getMessage())
    handler.addFilter(SecretFilter(env))
    logger.addHandler(handler)
    try:
        logger.warning("sent %s and %s and keyAAAAAA", "gs-token-123456", "secretBBBBBB")
    finally:
        logger.removeHandler(handler)
    assert records == ["sent *** and *** and ***"]


def test_portfolio_files_round_trip(tmp_path):
    demo = load_portfolio(ROOT / "examples" / "portfolio")
    files = portfolio_files(demo)
    assert sorted(files) == ["accounts.json", "calls.json", "health.json",
                             "stakeholder_changes.json", "support_tickets.json",
                             "usage_events.json"]
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    again = load_portfolio(tmp_path)
    assert again == demo
    assert json.loads(files["usage_events.json"])[0]["occurred_at"].endswith("Z")
    no_stakeholders = demo.model_copy(update={"stakeholder_changes": None})
    assert "stakeholder_changes.json" not in portfolio_files(no_stakeholders)


# --- every esd.toml section: one builder, one error format ---------------------------

CREDENTIALS = {"GONG_API_KEY": "k:s", "GAINSIGHT_URL": "https://gs.test",
               "GAINSIGHT_TOKEN": "t", "ZENDESK_SUBDOMAIN": "z", "ZENDESK_OAUTH_TOKEN": "o",
               "INTERCOM_ACCESS_TOKEN": "t", "HELPSCOUT_APP_ID": "i",
               "HELPSCOUT_APP_SECRET": "s"}
SECTIONS = {  # section -> (builder, a key whose value must be a number)
    "gong": (lambda s: gong.GongConfig.from_env(CREDENTIALS, s), "transcript_batch"),
    "gainsight": (lambda s: gainsight.GainsightConfig.from_env(CREDENTIALS, s), "page_size"),
    "zendesk": (lambda s: zendesk.ZendeskConfig.from_env(CREDENTIALS, s), "page_size"),
    "intercom": (lambda s: intercom.IntercomConfig.from_env(CREDENTIALS, s), "per_page"),
    "helpscout": (lambda s: helpscout.HelpScoutConfig.from_env(CREDENTIALS, s),
                  "requests_per_minute"),
    "http": (lambda s: http_settings({"http": s}), "max_pages"),
}


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_every_section_builds_from_an_empty_table(section):
    build, number_key = SECTIONS[section]
    assert getattr(build({}), number_key) > 0


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_an_unknown_key_is_exit_2_in_every_section(section):
    build, _ = SECTIONS[section]
    with pytest.raises(InputError) as exc:
        build({"colour": "blue"})
    assert exc.value.problems[0].startswith(f"esd.toml [{section}]: colour: unknown key (known: ")
    assert (exc.value.exit_code, exc.value.file, exc.value.field) == (2, "esd.toml", "colour")


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_a_wrongly_typed_value_is_exit_2_in_every_section(section):
    build, number_key = SECTIONS[section]
    with pytest.raises(InputError) as exc:
        build({number_key: "many"})
    assert exc.value.problems == [f"esd.toml [{section}]: {number_key}: "
                                  + exc.value.problems[0].split(": ", 2)[2]]
    assert "valid" in exc.value.problems[0]  # "Input should be a valid integer/number"
    assert (exc.value.exit_code, exc.value.field) == (2, number_key)


@pytest.mark.parametrize("section, credential", [
    ("gong", "access_key"), ("gainsight", "token"), ("zendesk", "oauth_token"),
    ("intercom", "token"), ("helpscout", "app_secret")])
def test_a_credential_in_esd_toml_is_refused(section, credential):
    build, _ = SECTIONS[section]
    with pytest.raises(InputError, match=rf"esd.toml \[{section}\]: {credential}: unknown key"):
        build({credential: "in-the-file"})


def test_several_problems_are_listed_one_line_each():
    with pytest.raises(InputError) as exc:
        http_settings({"http": {"max_tries": 3, "max_attempts": 0, "max_pages": True}})
    assert [line.split(": ")[1] for line in exc.value.problems] == [
        "max_tries", "max_attempts", "max_pages"]
    assert str(exc.value) == "\n".join(exc.value.problems)


def test_an_environment_value_is_named_by_its_variable():
    env = {**CREDENTIALS, "ZENDESK_PAGE_SIZE": "lots"}
    with pytest.raises(InputError, match=r"^environment ZENDESK_PAGE_SIZE: page_size: "):
        zendesk.ZendeskConfig.from_env(env, {"page_size": 5})


def test_a_section_that_is_not_a_table():
    with pytest.raises(InputError, match=r"^esd.toml \[http\]: not a table$"):
        http_settings({"http": 3})
