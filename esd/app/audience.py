"""Who an `esd run` posts to (contract §1): every CSM (the weekly job), only some of
them (`--only`, a pilot), or one reviewer who gets each chosen CSM's digest marked as a
preview (`--preview-to`). The two combine: `--only a@x --preview-to lead@x` previews
a's digest to the lead."""

from __future__ import annotations

import re
from dataclasses import dataclass

from esd.errors import InputError
from esd.models import Portfolio

_EMAIL = re.compile(r"[^@\s,]+@[^@\s,]+")


@dataclass(frozen=True)
class Audience:
    only: frozenset[str] | None = None  # lower-cased owner emails; None: every CSM
    preview_to: str | None = None  # the reviewer's email, lower-cased

    @classmethod
    def parse(cls, only: str | None = None, preview_to: str | None = None) -> Audience:
        """From `--only EMAIL[,EMAIL...]` and `--preview-to EMAIL` (exit 2 when either
        is not a list of emails). Emails are compared case-insensitively (contract §2)."""
        chosen = None
        if only is not None:
            given = [e.strip().lower() for e in only.split(",") if e.strip()]
            if not given:
                raise InputError("--only: no email given (EMAIL[,EMAIL...])", field="--only")
            if bad := [e for e in given if not _EMAIL.fullmatch(e)]:
                raise InputError(f"--only: {bad[0]!r} is not an email", field="--only")
            chosen = frozenset(given)
        reviewer = None
        if preview_to is not None:
            reviewer = preview_to.strip().lower()
            if not _EMAIL.fullmatch(reviewer):
                raise InputError(f"--preview-to: {preview_to!r} is not an email",
                                 field="--preview-to")
        return cls(chosen, reviewer)

    def check(self, portfolio: Portfolio) -> None:
        """Exit 2 naming every `--only` email that owns no account in the input (a
        typo would otherwise pilot to nobody, silently)."""
        if self.only is None:
            return
        owners = {a.owner_email for a in portfolio.accounts}
        unknown = sorted(self.only - owners)
        if unknown:
            raise InputError(
                f"--only: {', '.join(unknown)} own{'s' if len(unknown) == 1 else ''} no "
                f"account in the accounts input, so esd has no digest for "
                f"{'it' if len(unknown) == 1 else 'them'} (the CSMs are the accounts' "
                f"owner_email: {', '.join(sorted(owners)[:10])}"
                f"{', ...' if len(owners) > 10 else ''})", field="--only")


EVERYONE = Audience()  # the weekly job: every CSM, their own digest
