"""Ticket-system choice (contract §8), credential masking, and the pull writer."""

from __future__ import annotations

import json
import logging

import pytest
from conftest import ROOT

from esd.config import ticket_system, usage_source
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
    with pytest.raises(InputError, match="only 'gainsight'"):
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
