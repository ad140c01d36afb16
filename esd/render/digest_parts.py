"""The parts of a digest a CSM reads first, shaped for a short read (issue 17, part 4):
the contact an action names, one line per account of weak signals, the accounts
capped from the strong list, and the link from a quote's call id to the call.

Pure functions over the run's records; the text they are given from a source is
already escaped (esd.render.digest.md_text), and what they add is esd's own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from esd.models import Digest, Mention, RunResult, Signal
from esd.pipeline.route import rank_key

# Action-library phrases that stand for "the customer who asked": replaced at rendering
# time by the customer speaker of the signal's first quoted call mention, "Dana Lee
# (VP IT)". Phrases naming another person (the economic buyer, the renewal owner, a
# department's manager) are left as written: the speaker is not known to be them.
CONTACT_PHRASES = ("the named security contact", "the named compliance contact",
                   "the named contact", "the named admin", "the security contact",
                   "the compliance contact", "the asking persona")
_CONTACT = re.compile(r"\b(?:" + "|".join(re.escape(p) for p in CONTACT_PHRASES) + r")\b",
                      re.IGNORECASE)


def contact(mentions: Iterable[Mention], escape: Callable[[str | None], str | None]
            ) -> str | None:
    """"Dana Lee (VP IT)": the speaker of the first call mention that has one (only
    customer attendees' words are ever mentions, contract §2), escaped; None without."""
    for mention in mentions:
        if mention.source == "call" and mention.speaker and mention.speaker.strip():
            name = escape(mention.speaker)
            title = escape(mention.speaker_title) if mention.speaker_title else None
            return f"{name} ({title})" if title and title.strip() else name
    return None


def personal_action(action: str | None, who: str | None) -> str | None:
    """The action with its generic contact phrase ("the security contact") replaced by
    `who`; unchanged when there is no one to name or no such phrase. Never invents a
    person: `who` comes from the evidence."""
    if not action or not who:
        return action
    return _CONTACT.sub(lambda _: who, action)


def call_ref(call_id: str, url: str | None) -> str:
    """The call id (escaped) as shown after a quote: a Markdown link to the call's page
    when there is a safe one (esd.render.links), else the id alone."""
    if url is None or not re.fullmatch(r"[^\[\]\n]+", call_id):
        return call_id
    return f"[{call_id}]({url})"


def weak_lines(views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per account: its weak signals' views joined, in ranked order, each
    line holding `account`, `segment` and `parts` (the views: `signal`, `summary`)."""
    lines: dict[str, dict[str, Any]] = {}
    for view in views:
        line = lines.setdefault(view["signal"].account_id, {
            "account": view["account"], "segment": view["segment"], "parts": []})
        line["parts"].append(view)
    return list(lines.values())


def capped(digest: Digest, result: RunResult) -> list[Signal]:
    """The digest's strong signals over the cap, in ranked order (the ones the count
    `overflow` stands for)."""
    if not digest.overflow:
        return []
    listed = {(s.account_id, s.sku) for s in digest.strong}
    mine = [s for s in result.signals if s.strength == "strong"
            and (s.account_id, s.sku) not in listed
            and s.account_id in result.accounts
            and result.accounts[s.account_id].owner_email == digest.owner_email]
    return sorted(mine, key=lambda s: rank_key(s, result.accounts))


def capped_accounts(signals: list[Signal], names: Mapping[str, str]) -> list[dict[str, Any]]:
    """The capped signals by account, in ranked order: `name` (escaped, from `names`)
    and `skus`."""
    accounts: dict[str, dict[str, Any]] = {}
    for signal in signals:
        entry = accounts.setdefault(signal.account_id, {
            "name": names.get(signal.account_id, signal.account_id), "skus": []})
        entry["skus"].append(signal.sku)
    return list(accounts.values())
