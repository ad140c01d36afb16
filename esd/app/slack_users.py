"""esd check, with SLACK_BOT_TOKEN set: the CSMs Slack cannot find, before the first
run misses their digest (contract §11).

Every owner of an account in the accounts input (`--input-dir`, else the live usage
source when its credentials are set) is looked up with `users.lookupByEmail`, under
the address `esd.toml [slack.users]` gives for it, if any; a Slack user id given there
is taken as it is (looking it up would need `users.info`, a call esd never makes). Each
CSM Slack does not know is a problem naming the email, how many accounts they own and
how to map them. A token Slack refuses, or a missing scope, is exit 4 naming it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from esd.app.inputs import live
from esd.app.settings import parse_as_of
from esd.config import TOML, http_settings, usage_source
from esd.models import Account
from esd.pipeline import make_window
from esd.references.schema import Problem


@dataclass
class SlackUsers:
    checked: int  # CSMs looked up
    problems: list[Problem]


def slack_token(env: Mapping[str, str]) -> bool:
    return bool((env.get("SLACK_BOT_TOKEN") or "").strip())


def check_slack_users(accounts: list[Account], env: Mapping[str, str],
                      toml: Mapping[str, Any], accounts_file: str) -> SlackUsers:
    """Look every owner of `accounts` up in Slack; a problem per CSM it cannot find."""
    from esd.delivery.slack import SlackDelivery

    slack = SlackDelivery.from_env(env, toml)
    owners = Counter(a.owner_email for a in accounts)
    problems = []
    for email in sorted(owners):
        if slack.find_user(email) is not None:
            continue
        n = owners[email]
        mapped = slack.users.get(email)
        where, how = (TOML, f' (mapped to "{mapped}" in [slack.users], which Slack does '
                            "not know either)") if mapped else (accounts_file, "")
        problems.append(Problem(file=where, line=0, message=(
            f"CSM {email} (owner of {n} account{'s' if n != 1 else ''}): Slack has no "
            f"user with this email{how}, so esd run would miss their digest. Add them "
            f'to the workspace, or map them in {TOML}: [slack.users] "{email}" = '
            '"the email Slack knows them by, or their user id U..."')))
    return SlackUsers(len(owners), problems)


def live_accounts(env: Mapping[str, str], toml: Mapping[str, Any]) -> list[Account] | None:
    """The accounts of the live usage source (Gainsight or the warehouse), only when it
    is configured: None when its credentials are not set (nothing to check against)."""
    if usage_source(env, toml) != "warehouse" and not (
            env.get("GAINSIGHT_URL") and env.get("GAINSIGHT_TOKEN")):
        return None
    reads = live().usage_reads(env, toml)
    source = reads.open()
    try:
        if reads.http:
            http_settings(toml).apply(source)
        window = make_window(parse_as_of(None), 7)  # accounts are read whatever the window
        return reads.read(source, "accounts", window, None).records
    finally:
        source.close()
