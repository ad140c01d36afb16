"""Step 5 of the seed's method (contract §5.5): group by CSM, rank, cap."""

from __future__ import annotations

from collections import defaultdict

from esd.models import Account, Digest, Signal, csm_name


def rank_key(signal: Signal, accounts: dict[str, Account]) -> tuple:
    """ARR descending, then renewal date ascending, then account id, then SKU."""
    account = accounts[signal.account_id]
    return (-account.arr, account.renewal_date, account.id, signal.sku)


def route(signals: list[Signal], accounts: dict[str, Account], cap_per_csm: int) -> list[Digest]:
    """One digest per CSM who owns at least one account, in owner-email order.

    The cap counts signals, not accounts; what it drops is reported as an overflow count
    only (never listed, never silently lost).
    """
    owners: dict[str, list[Account]] = defaultdict(list)
    for account in accounts.values():
        owners[account.owner_email].append(account)
    by_owner: dict[str, list[Signal]] = defaultdict(list)
    for signal in signals:
        by_owner[accounts[signal.account_id].owner_email].append(signal)

    digests = []
    for email in sorted(owners):
        mine = sorted(by_owner[email], key=lambda s: rank_key(s, accounts))
        strong = [s for s in mine if s.strength == "strong"]
        digests.append(Digest(
            owner_email=email,
            csm_name=csm_name(email, owners[email]),
            strong=strong[:cap_per_csm],
            weak=[s for s in mine if s.strength == "weak"],
            overflow=max(0, len(strong) - cap_per_csm),
            accounts_owned=len(owners[email]),
        ))
    return digests
