"""Secrets in URLs (contract §8) and Retry-After values (seconds or an HTTP date)."""

from __future__ import annotations

import logging
import os

import pytest

from esd.redact import LibraryFilter, SecretFilter, redact_text, redact_url
from esd.retry import retry_after_seconds


@pytest.mark.parametrize("url, shown", [
    ("postgresql://esd:s3cr%40t@db.example:5432/esd?sslmode=require",
     "postgresql://esd:***@db.example:5432/esd?sslmode=require"),
    ("https://bot:hunter22@slack.example/api/", "https://bot:***@slack.example/api/"),
    ("https://:only-a-password@host/", "https://:***@host/"),
    ("https://slack.com/api/", "https://slack.com/api/"),
    ("/var/lib/esd/state.db", "/var/lib/esd/state.db"),
])
def test_redact_url_masks_only_the_password(url, shown):
    assert redact_url(url) == shown


def test_redact_text_masks_every_url_password_in_a_sentence():
    text = "cannot reach postgresql://u:p4ss@h/db nor https://a:b-secret@x.example/"
    assert redact_text(text) == "cannot reach postgresql://u:***@h/db nor https://a:***@x.example/"


@pytest.mark.parametrize("value, seconds", [
    ("3600", 3600.0), (" 2 ", 2.0), ("0", 0.0),
    ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # a date in the past: no wait
    ("soon", None), ("nan", None), ("inf", None), ("-5", None), ("1e9", None), ("", None),
    (None, None),
])
def test_retry_after_is_whole_seconds_or_an_http_date(value, seconds):
    assert retry_after_seconds(value) == seconds


def test_retry_after_date_counts_from_now():
    assert retry_after_seconds("Wed, 21 Oct 2015 07:29:00 GMT", now=1445412480.0) == 60.0


def _record(msg: str, args: tuple = (), pathname: str = "/x/esd/thing.py",
            level: int = logging.DEBUG) -> logging.LogRecord:
    return logging.LogRecord("esd.test", level, pathname, 1, msg, args, None)


def test_secret_filter_masks_values_and_url_passwords():
    f = SecretFilter({"ZENDESK_API_TOKEN": "zd-token-123456", "GONG_API_KEY": "gkey01:gsecret99"})
    record = _record("GET %s with %s, %s and %s", (
        "https://me:pa55word@zd.example/api", "zd-token-123456", "gkey01", "gsecret99"))
    assert f.filter(record)
    assert record.getMessage() == "GET https://me:***@zd.example/api with ***, *** and ***"


def test_library_filter_drops_the_sdk_debug_records_whatever_the_logger():
    f = LibraryFilter(("slack_sdk", "httpx"))
    sdk = f"{os.sep}venv{os.sep}slack_sdk{os.sep}web{os.sep}base_client.py"
    assert not f.filter(_record("Sending a request - json_body: {...}", pathname=sdk))
    assert not f.filter(_record("HTTP Request", pathname=f"{os.sep}httpx{os.sep}_client.py",
                                level=logging.INFO))
    assert f.filter(_record("rate limited", pathname=sdk, level=logging.WARNING))
    assert f.filter(_record("Gong POST /v2/calls -> 200", pathname="/x/esd/http.py"))
