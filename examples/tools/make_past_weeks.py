"""Eight past weeks for the Lumen demo, so `esd backtest` and `esd report` have a history.

examples/generate_portfolio.py builds the demo week (window [2026-11-16, 2026-11-23)).
This script rebuilds that week in memory, exactly as committed, and adds the eight weeks
before it: windows ending Monday 2026-09-28, 10-05, ... 11-16. It rewrites the demo's
record files (calls, usage events, support tickets, stakeholder changes) as the demo
week's records plus the past weeks'; accounts, health, expected.json and the reference
files stay as they are.

What a past week holds, like the demo week: calls on 61-74 % of the accounts (the same
contacts, small talk, usage reviews, open issues, objections, renewal talk, now and then
an hour-long call or a recording without a transcript), in-band usage noise and ordinary
tickets; and, planted from `STRONG`, `WEAK` and `NOT_SIGNAL` below, the week's expansion
evidence: strong signals (a customer's trigger phrase plus a counted usage event on the
same SKU), call-only, usage-only and ticket-only evidence, and asks that are negated,
conditional, past or negative examples. The shape is chosen so the backtest has
something to show:

- CSMs over the cap of 3 in some weeks, and Ana Ruiz over it three weeks running (the
  windows ending 10-12, 10-19 and 10-26), so her 10-26 digest carries the flooding
  warning; she is back under it by 11-02, so the demo week never inherits the streak;
- SKUs rising and falling: ai-assistant (launched October 2026) from nothing to three a
  week, additional-team-seats climbing towards year-end planning, premium-feature-pack
  tapering off, enterprise-tier doubling from mid-October (the Q4 compliance questions,
  then the audit-log noise below);
- a noisy trigger: Lumen's 2026-10-20 release moved the audit-log page behind the
  enterprise gate, so from then on admins looking for it trip
  `tier_gated_feature_attempt` for `audit-log` and say "audit log" on calls (windows
  ending 10-26 .. 11-16, the demo's trailing 30 days). esd rightly calls that strong
  evidence; the outcomes (examples/portfolio/outcomes.csv) show it was mostly noise;
- two champion departures (2026-10-01, 2026-10-14) that turn a past strong signal weak.

The demo week must come out of a dry-run exactly as before (tests/test_demo_portfolio.py
and expected.json), so: every record added here is dated before the demo window
(2026-11-16), every stakeholder change before the demo week's look-back (2026-10-24),
and no planted evidence sits on an account that already has a record in those weeks in
the demo week's files, or any stakeholder change. `PLANNED` holds each window's strong
count per CSM (before the cap), which tests/test_demo_history.py checks against the real
pipeline.

Deterministic: one `random.Random(HISTORY_SEED)` on top of the demo week's own seed, no
clock reads; two runs give identical bytes.

    python examples/tools/make_past_weeks.py [--out examples/portfolio]
"""

from __future__ import annotations

import argparse
import functools
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(EXAMPLES))

import generate_portfolio as gp  # noqa: E402

HISTORY_SEED = 20260928
DEMO = EXAMPLES / "portfolio"
FIRST_WEEK_END = datetime(2026, 9, 28, tzinfo=UTC)
WEEKS = 8
WEEK_ENDS = [FIRST_WEEK_END + timedelta(days=7 * i) for i in range(WEEKS)]
assert WEEK_ENDS[-1] == gp.WINDOW_START, "the past weeks end where the demo week starts"
# The share of accounts with at least one call, per week (esd's coverage figure).
COVERAGE = [0.66, 0.71, 0.62, 0.68, 0.74, 0.69, 0.65, 0.70]
TWO_CALL_SHARE = 0.12
LONG_CALL_SHARE = 0.08  # hour-long calls: 900-1,400 words
ACTIVE_NO_CALL_SHARE = 0.14  # usage or a ticket, no call
RECORD_FILES = ("calls", "usage_events", "support_tickets", "stakeholder_changes")

CSM = {c[0].split()[0].lower(): c[0] for c in gp.CSMS}  # "ana" -> "Ana Ruiz"
ENT, SEATS, PREMIUM, AI = gp.ENT, gp.SEATS, gp.PREMIUM, gp.AI

# --- slot fillers ------------------------------------------------------------------------

IDPS = ["Okta", "Azure AD", "OneLogin", "Google Workspace", "Ping Identity", "JumpCloud"]
TEAMS = ["customer support", "finance", "marketing", "sales ops", "field service",
         "people ops", "design", "data science", "procurement", "partnerships"]
DEPARTMENTS = ["support", "finance", "marketing", "sales", "operations", "hr", "design",
               "procurement"]
PRODUCT_AREAS = ["the report builder", "the funnels view", "the retention chart",
                 "notebooks", "shared boards"]
USE_CASES = ["scheduled exports", "custom event properties", "multi-touch attribution",
             "cohort comparisons", "revenue forecasting"]
ROADMAP_ASKS = ["forecast churn by cohort", "join billing with events",
                "alert on funnel drops", "embed charts in Salesforce"]
SYSTEMS = ["warehouse", "Salesforce", "HubSpot", "Snowflake", "billing"]
MONTHS = ["January", "February", "March"]
WEEKDAYS = ["Monday", "Wednesday", "Friday"]

# --- what customers say ----------------------------------------------------------------------
#
# Each flavour: its SKU, one-sentence trigger lines (a customer's; `{...}` filled from
# the lists above) and the usage event that corroborates it (None: it has none). The
# replies are the CSM's; `follow` is the customer's next line, never a trigger.


def seat_spike(b: HistoryBuilder, aid: str) -> tuple:
    """A seat-count rise well above the account's segment band."""
    meta = b.meta[aid]
    upper = b.bands[meta["segment"]]["seat_count"]
    base = meta["seats"]
    for _ in range(50):
        current = round(base * (1 + (upper + b.rng.uniform(4, 25)) / 100))
        if gp.delta_of(base, current) > upper + 1:
            return gp.seats(base, current)
    raise AssertionError(f"no seat spike above {upper} for {aid}")


def api_spike(b: HistoryBuilder, aid: str) -> tuple:
    upper = b.bands[b.meta[aid]["segment"]]["api_calls"]
    base = b.rng.randrange(20_000, 300_000, 100)
    current = round(base * (1 + (upper + b.rng.uniform(8, 45)) / 100))
    assert gp.delta_of(base, current) > upper
    return gp.api(base, current)


def gated_for(*features: str):
    def make(b: HistoryBuilder, aid: str) -> tuple:
        return gp.gated(b.rng.choice(features), 0, b.rng.randint(2, 14))
    return make


def first_use(b: HistoryBuilder, aid: str) -> tuple:
    feature = b.rng.choice(("dashboards", "funnels", "reports", "notebooks", "alerts"))
    return gp.first_use(feature, b.rng.choice(DEPARTMENTS), b.rng.randint(4, 18))


def seats_or_first_use(b: HistoryBuilder, aid: str) -> tuple:
    return seat_spike(b, aid) if b.rng.random() < 0.5 else first_use(b, aid)


FLAVOURS = {
    # enterprise-tier
    "sso": (ENT, ["Do you support SSO with {idp}?",
                  "Quick one from IT: do you support SSO through {idp}?",
                  "Do you support SSO for the {idp} accounts our contractors use?"],
            gated_for("sso")),
    "saml": (ENT, ["Our IT team made SAML a requirement for every tool we renew this year.",
                   "We need SAML for the contractors before the {month} access review."],
             gated_for("sso")),
    "scim": (ENT, ["SCIM provisioning is what our IT director keeps asking me about.",
                   "We want SCIM so new joiners get their Lumen account on day one."],
             gated_for("sso", "rbac")),
    "questionnaire": (ENT, ["Procurement sent us a security questionnaire as part of the "
                            "renewal.",
                            "Our vendor review needs your security questionnaire back by "
                            "{weekday}."],
                      gated_for("audit-log", "rbac")),
    "soc2": (ENT, ["Our auditors asked for your SOC 2 report before we load customer data.",
                   "Legal wants the SOC 2 report on file before the contract review."],
             gated_for("rbac", "audit-log")),
    "hipaa": (ENT, ["HIPAA is now a requirement since we signed two hospital networks.",
                    "We need to talk about HIPAA because the clinical team wants in."],
              gated_for("sso", "audit-log")),
    "security": (ENT, ["Our security team needs role-based permissions for the finance "
                       "workspace.",
                       "Our security team needs a record of who exports raw events."],
                 gated_for("rbac")),
    "pricing": (ENT, ["Can you send pricing for {big} seats across all three regions?",
                      "Finance asked me to get a quote for {big} seats for next year."],
                seat_spike),
    # The noisy one: after the 2026-10-20 release moved the audit-log page behind the
    # enterprise gate, admins looking for it tripped the gate and asked about it.
    "auditlog": (ENT, ["Where did the audit log go after the last update?",
                       "Our admins keep clicking the audit log and landing on an upgrade "
                       "screen.",
                       "I just wanted the audit log to see who deleted the sales dashboard.",
                       "The audit log link moved and three people asked me about it this "
                       "week.",
                       "Someone renamed our main board and I went looking for the audit "
                       "log."],
                 gated_for("audit-log")),
    # additional-team-seats
    "team": (SEATS, ["The {team} team is also starting to use {area}.",
                     "The {team} team is also starting to use the dashboards we built."],
             seats_or_first_use),
    "rollout": (SEATS, ["We're rolling out to {n} more people after the {month} kickoff.",
                        "We're rolling out to {n} more people in {dept} next month."],
                seat_spike),
    "access": (SEATS, ["Our {team} team needs access before the quarter closes.",
                       "Our {team} team needs access to the revenue boards."],
               first_use),
    "needseats": (SEATS, ["We need {n} more seats for the new {team} group.",
                          "Can you add {n} more seats before {weekday}?"],
                  seat_spike),
    "newhires": (SEATS, ["We have {n} new hires starting in {dept} on {month} 4.",
                         "We have {n} new hires starting after the holidays."],
                 seats_or_first_use),
    # premium-feature-pack
    "does": (PREMIUM, ["Does {area} support {use}?"],
             gated_for("advanced-analytics", "workflow-automation")),
    "roadmap": (PREMIUM, ["We're trying to {ask} — is that on the roadmap?",
                          "We’re trying to {ask}, is that on the roadmap?"],
                gated_for("advanced-analytics")),
    "ratelimit": (PREMIUM, ["We keep hitting the API rate limit when the {system} sync runs.",
                            "Our nightly job is hitting the API rate limit again."],
                  api_spike),
    "higherapi": (PREMIUM, ["Our engineers asked about higher API limits for the export "
                            "endpoint."],
                  api_spike),
    "workflow": (PREMIUM, ["Workflow automation is what our ops team keeps asking me about.",
                           "The ops team wants workflow automation for the weekly board "
                           "pack."],
                 gated_for("workflow-automation")),
    "advanced": (PREMIUM, ["Advanced analytics came up again in our planning meeting.",
                           "Our analysts want advanced analytics for the pricing study."],
                 gated_for("advanced-analytics")),
    # ai-assistant (launched October 2026, no action-library section yet)
    "ai": (AI, ["Our execs saw the AI assistant demo and want it for the Monday review.",
                "Is the AI assistant available on our plan yet?",
                "The AI assistant came up three times in our team meeting."],
           gated_for("ai-assistant")),
    "summarize": (AI, ["Can it summarize our dashboards for the leadership email each week?",
                       "Our VP wants something that can summarize our dashboards before "
                       "board meetings."],
                  gated_for("ai-assistant")),
}

REPLIES = {
    **gp.REPLIES,
    "auditlog": ["Ah, that moved in the October release. It's under Settings now, I'll send "
                 "you a screenshot.",
                 "That's the new navigation, sorry about that. I'll send the two-click path "
                 "after the call."],
    "ai-assistant": ["It's one of our newest features. I'll send you a short demo "
                     "recording.",
                     "Good timing, it just launched. I'll set up a fifteen-minute demo for "
                     "your team."],
}
FOLLOWS = ["Thanks, that helps.", "Great, send it my way and I'll share it internally.",
           "Perfect. No rush, but sooner is better.", "Okay, let's look at it next time too."]

# Asks that are not a signal (contract §5.3), each a customer's line: (SKU, reason, text).
NOT_SIGNAL_LINES = {
    "negated": [
        (ENT, "We no longer need SAML since IT moved everyone to Google."),
        (ENT, "SCIM is not a priority for us this year."),
        (SEATS, "We stopped rolling out to 30 more people when the hiring freeze hit."),
        (PREMIUM, "We got rid of workflow automation after the reorg."),
        (ENT, "SAML? No, we handle that through Google today."),
        (AI, "AI assistant? No, legal has not signed off on anything with AI yet."),
    ],
    "conditional": [
        (ENT, "If you added SCIM we could roll it out to the whole company."),
        (SEATS, "We would need 20 more seats if the Denver office joins."),
        (PREMIUM, "Workflow automation would be worth a look if the price is right."),
        (AI, "We are considering the AI assistant for the support team."),
    ],
    "negative-example": [
        (ENT, "We already have SSO through Okta, so SAML is covered on our side."),
        (ENT, "Honestly the enterprise tier is too expensive just for SOC 2."),
        (PREMIUM, "We're using Looker for advanced analytics instead."),
        (PREMIUM, "We turned off workflow automation after a week."),
        (AI, "We turned off the AI assistant after the pilot."),
    ],
}
# Trigger phrases said of the past or in passing: esd reads them as call mentions (weak
# when nothing corroborates them). Real digests have these.
PAST_ASKS = [
    (ENT, "Back in the spring we asked about SCIM, and IT ended up scripting it."),
    (PREMIUM, "Last year we were hitting the API rate limit, but the batching fixed it."),
    (SEATS, "The sales team is also starting to use the mobile app, mostly to read."),
]

# Tickets that are evidence on their own: (SKU, subject, body, tags).
TICKETS = {
    "auditlog": (ENT, "Audit log missing after the October update",
                 "Our admins cannot find the audit log page since the new navigation. Was it "
                 "moved or removed?", ["admin", "navigation"]),
    "sso": (ENT, "Okta login loop for two users",
            "Two people are sent back to the login page after signing in through Okta.",
            ["sso", "login"]),
    "seats": (SEATS, "Please add 15 users for the field team",
              "Our field service group starts on Monday. Can you raise our licence count?",
              ["seat-request"]),
    "api": (PREMIUM, "429 errors on the export API",
            "The nightly export gets 429 responses after about ten minutes.",
            ["api-limits", "api"]),
    "ai": (AI, "AI assistant not visible in our workspace",
           "Our admin cannot see the AI assistant toggle mentioned in the release notes.",
           ["ai-assistant"]),
}

# --- the plan -----------------------------------------------------------------------------
#
# Per week (index into WEEK_ENDS): each CSM's strong signals as flavours. A flavour may
# carry "@" and an ISO time: the account's champion left then (inside the week's
# look-back), so the signal is weak (champion-departure) and not counted in PLANNED.

STRONG: list[dict[str, list[str]]] = [
    {"ana": ["sso", "ratelimit"], "marcus": ["team"], "priya": ["questionnaire", "roadmap"],
     "tom": ["hipaa", "rollout", "does", "workflow"], "jess": ["newhires"],
     "diego": ["higherapi"]},
    {"ana": ["saml", "needseats", "advanced"], "marcus": ["ratelimit", "soc2"],
     "priya": ["access"], "tom": ["sso", "does"],
     "jess": ["sso@2026-10-01T15:30:00Z"], "diego": ["roadmap"]},
    {"ana": ["scim", "sso", "rollout", "does", "ai"],
     "marcus": ["security", "hipaa", "workflow", "newhires"],
     "priya": ["soc2", "team"], "tom": ["ratelimit"], "jess": ["questionnaire"], "diego": []},
    {"ana": ["hipaa", "summarize", "needseats", "advanced"],
     "marcus": ["saml", "pricing", "questionnaire", "does", "team"],
     "priya": ["security", "higherapi", "rollout", "scim@2026-10-14T17:00:00Z"],
     "tom": ["soc2", "newhires"], "jess": ["roadmap", "sso"], "diego": ["workflow"]},
    {"ana": ["auditlog", "rollout", "newhires", "ai", "ratelimit"],
     "marcus": ["summarize", "auditlog"], "priya": ["access", "auditlog"], "tom": ["sso"],
     "jess": ["team", "auditlog"], "diego": ["workflow", "saml"]},
    {"ana": ["needseats", "ai"], "marcus": ["higherapi", "auditlog"],
     "priya": ["security", "rollout", "newhires", "summarize"],
     "tom": ["pricing", "advanced", "auditlog"], "jess": ["access"],
     "diego": ["questionnaire", "auditlog"]},
    {"ana": ["sso", "auditlog"], "marcus": ["summarize", "team"],
     "priya": ["rollout", "does", "auditlog"], "tom": ["ai", "needseats", "hipaa"],
     "jess": ["ai", "newhires"], "diego": ["auditlog"]},
    {"ana": ["rollout", "roadmap"], "marcus": ["summarize", "auditlog"],
     "priya": ["soc2", "needseats"], "tom": ["ratelimit", "auditlog"], "jess": ["ai"],
     "diego": ["team"]},
]
# Strong signals the demo week's own files already put in a past window: S33 (SSO with
# OneLogin and a gated sso attempt on 2026-11-10, "last week" for the demo).
INHERITED = {7: {"jess": 1}}

# Evidence that stays weak, per week: call-only (a flavour's line, no usage), usage-only
# (its usage, no line), ticket-only (a TICKETS key), past asks (PAST_ASKS index).
WEAK: list[dict[str, list[str]]] = [
    {"call": ["scim", "advanced"], "usage": ["sso", "ratelimit", "rollout"],
     "ticket": ["seats"], "past": [0]},
    {"call": ["needseats", "summarize"], "usage": ["does", "newhires"], "ticket": ["sso"],
     "past": [1]},
    {"call": ["workflow", "ai"], "usage": ["pricing", "sso"], "ticket": ["ai"], "past": [2]},
    {"call": ["hipaa", "ratelimit"], "usage": ["access", "does"], "ticket": ["api"],
     "past": [0]},
    {"call": ["team", "summarize"], "usage": ["auditlog", "auditlog", "auditlog", "sso"],
     "ticket": ["auditlog", "auditlog", "seats"], "past": []},
    {"call": ["rollout", "questionnaire"],
     "usage": ["auditlog", "auditlog", "auditlog", "ratelimit", "ai"],
     "ticket": ["auditlog", "ai"], "past": [1]},
    {"call": ["ai", "soc2"], "usage": ["auditlog", "auditlog", "newhires", "summarize"],
     "ticket": ["auditlog", "seats"], "past": [2]},
    {"call": ["advanced", "needseats"], "usage": ["auditlog", "does", "ai"],
     "ticket": ["api"], "past": []},
]
# not_signal lines per week: (reason, index into NOT_SIGNAL_LINES[reason]).
NOT_SIGNAL: list[list[tuple[str, int]]] = [
    [("negated", 0), ("conditional", 0), ("negative-example", 0)],
    [("negated", 4), ("negative-example", 2)],
    [("conditional", 1), ("negated", 1), ("negative-example", 3)],
    [("negated", 2), ("conditional", 3), ("negative-example", 1)],
    [("negated", 3), ("conditional", 2)],
    [("negative-example", 4), ("negated", 5), ("conditional", 0)],
    [("negated", 0), ("conditional", 3), ("negative-example", 2)],
    [("negative-example", 0), ("negated", 5)],
]
# Who the new stakeholders are (background: hires and promotions touch no signal).
BACKGROUND_CHANGES = 8
CHAMPION_LOOKBACK_DAYS = 30


def planned() -> dict[str, dict[str, int]]:
    """{window end (YYYY-MM-DD): {owner email: strong signals before the cap}}."""
    out: dict[str, dict[str, int]] = {}
    for week, plan in enumerate(STRONG):
        counts = {}
        for key, flavours in plan.items():
            kept = sum("@" not in f for f in flavours) + INHERITED.get(week, {}).get(key, 0)
            counts[gp.email_of(CSM[key], gp.LUMEN_DOMAIN)] = kept
        out[WEEK_ENDS[week].date().isoformat()] = counts
    return out


PLANNED = planned()

# --- more of the conversation -----------------------------------------------------------------
#
# Exchanges only the past weeks use (background: no trigger phrase, checked): objections,
# budget pressure, and asks in words the taxonomy does not list (the rule extractor misses
# those; real weeks have them).
EXTRA_MIDDLE = [
    [("cust", "Honestly, the price increase at the last renewal still comes up in every "
              "budget meeting."),
     ("csm", "I hear you. I'll put together a summary of what changed in the product since "
             "then, so the value side is on paper."),
     ("cust", "That would help. My CFO reads everything twice.")],
    [("cust2", "I'll be blunt, half the team still exports to spreadsheets and builds the "
               "charts there."),
     ("csm", "That's common in the first year. What's stopping them from building in Lumen "
             "directly?"),
     ("cust2", "Mostly habit, and the formula editor feels unfamiliar."),
     ("csm", "We can do a thirty-minute session just on formulas. People usually switch after "
             "seeing the shortcuts.")],
    [("cust", "Our new CFO is reviewing every tool over ten thousand dollars, so I may need "
              "your help defending the budget."),
     ("csm", "Happy to. I can pull the adoption numbers by team and a couple of quotes from "
             "your power users."),
     ("cust", "Perfect, numbers by team is exactly what she'll ask for.")],
    [("cust", "A competitor pitched our VP last week with a cheaper bundle."),
     ("csm", "Thanks for telling me. Do you know what they compared on?"),
     ("cust", "Mostly price per user. Nobody looked at the funnels or the replays."),
     ("csm", "Then let's make sure your VP sees what the team actually uses. I'll bring a "
             "one-page comparison next time.")],
    [("cust", "Our IT folks keep asking about single sign-on for the contractors."),
     ("csm", "Noted. I'll send over what we support for identity providers, and we can go "
             "through it with them.")],
    [("cust", "Finance wants to know what a bigger plan would cost us next year."),
     ("csm", "I'll put the plan comparison in writing so they have it before budgets close."),
     ("cust", "Thanks, they start the numbers in a couple of weeks.")],
    [("cust2", "We might bring the warehouse crew onto Lumen in the spring, nothing decided "
               "yet."),
     ("csm", "Good to know. When it firms up, tell me and we'll plan their onboarding.")],
    [("cust", "Sorry, my dog is barking at the delivery guy. Give me a second."),
     ("csm", "Ha, no problem. Mine does the same every afternoon."),
     ("cust", "Okay, back. Where were we?")],
]
# Text that reads wrong before November (snow, holiday plans).
SEASONAL = ("snow", "holiday", "December")


class HistoryBuilder(gp.Builder):
    """Adds past weeks to the demo week's accounts, contacts and people."""

    def __init__(self, base: gp.Builder, seed: int):
        super().__init__(seed, base.bands)
        self.accounts, self.contacts, self.meta = base.accounts, base.contacts, base.meta
        self.call_ids = set(base.call_ids)
        self.event_ids = {u["event_id"] for u in base.usage}
        # Ticket numbers grow with time: the past weeks' come before the demo week's.
        self.ticket_no = 41_000 + self.rng.randrange(300)
        self.base_first_ticket = min(int(t["ticket_id"]) for t in base.tickets)
        self.week_start = FIRST_WEEK_END

    # -- time: inside the week being built ----------------------------------------------------

    def in_window(self, business_hours: bool = True) -> datetime:
        if business_hours:
            day = self.rng.randrange(5)
            minute = self.rng.randrange(14 * 60, 23 * 60, 15)
        else:
            day = self.rng.randrange(7)
            minute = self.rng.randrange(5, 24 * 60 - 5)
        return self.week_start + timedelta(days=day, minutes=minute)

    # -- records -----------------------------------------------------------------------------

    def add_usage(self, account_id: str, spec: tuple, when: datetime) -> dict:
        event = super().add_usage(account_id, spec, when)
        while event["event_id"] in self.event_ids:
            event["event_id"] = f"ua_{self.rng.getrandbits(48):012x}"
        self.event_ids.add(event["event_id"])
        return event

    def conversation(self, cast: dict, account_id: str, when: datetime, target_words: int,
                     plants: list[dict], long_form: bool) -> list[tuple[str, str, bool]]:
        """The demo week's conversation, with the past weeks' extra exchanges and
        nothing seasonal before November."""
        meta = self.meta[account_id]
        renewal = datetime.fromisoformat(meta["renewal"])
        first = {role: a["name"].split()[0] for role, a in cast.items()}
        values = {
            "csm": first["csm"], "cust": first["cust"], "cust2": first.get("cust2", ""),
            "se": first.get("se", ""), "company": meta["short"],
            "feature": self.rng.choice(gp.FEATURES), "users": meta["users"],
            "pct": self.rng.randint(4, 22), "n2": self.rng.randint(20, 240),
            "weekday": gp.WEEKDAYS[when.weekday()],
            "renewal_month": f"{gp.MONTHS[renewal.month - 1]} {renewal.year}",
            "draft_month": gp.MONTHS[(renewal.month - 3) % 12],
        }
        greetings, agendas, closings, deck = self.pools(frozenset(cast), when.month >= 11)

        def render(ex):
            return [(cast[r]["name"], t.format(**values), False) for r, t in ex]

        opening = render(self.rng.choice(greetings))
        opening += render(self.rng.choice(agendas))
        closing = render(self.rng.choice(closings))
        deck = list(deck)
        self.rng.shuffle(deck)
        planted = [self.plant_exchange(line, cast) for line in plants]
        head = opening + closing + [turn for ex in planted for turn in ex]
        words, turns = sum(len(t.split()) for _, t, _ in head), len(head)
        middle: list[list] = []
        for ex in deck:
            if words >= target_words:
                break
            ex = render(ex)
            ex_words = sum(len(t.split()) for _, t, _ in ex)
            if not long_form and (turns + len(ex) > 38 or words + ex_words > 680):
                continue
            middle.append(ex)
            words += ex_words
            turns += len(ex)
        for ex in planted:
            middle.insert(self.rng.randint(0, len(middle)), ex)
        return gp.merge_turns(opening + [turn for ex in middle for turn in ex] + closing)

    @functools.cache  # noqa: B019 - one builder per run, a handful of keys
    def pools(self, roles: frozenset[str], late_autumn: bool) -> tuple[list, ...]:
        """The greetings, agendas, closings and middle exchanges a call with these roles
        can use (nothing seasonal before November)."""
        def usable(pool):
            return [ex for ex in pool if {r for r, _ in ex} <= roles and (
                late_autumn or not any(w in t for _, t in ex for w in SEASONAL))]

        middle = [ex for pool in [*gp.MIDDLE.values(), EXTRA_MIDDLE] for ex in usable(pool)]
        return usable(gp.GREETINGS), usable(gp.AGENDAS), usable(gp.CLOSINGS), middle

    def plant_exchange(self, line: dict, cast: dict) -> list[tuple[str, str, bool]]:
        if line["role"] != "cust" or "reply" not in line:
            return super().plant_exchange(line, cast)
        csm, customer = cast["csm"]["name"], cast["cust"]["name"]
        text = f"{line['lead']} {line['text']}" if line["lead"] else line["text"]
        turns = [(customer, text, True), (csm, line["reply"], False)]
        if line.get("follow"):
            turns.append((customer, line["follow"], False))
        return turns

    def add_ticket(self, account_id: str, subject: str, body: str, tags: list[str],
                   when: datetime) -> dict:
        ticket = super().add_ticket(account_id, subject, body, tags, when)
        assert int(ticket["ticket_id"]) < self.base_first_ticket, "ticket numbers ran over"
        return ticket


# --- building the weeks ----------------------------------------------------------------------


def fill(rng: random.Random, template: str) -> str:
    return template.format(
        idp=rng.choice(IDPS), team=rng.choice(TEAMS), dept=rng.choice(DEPARTMENTS),
        area=rng.choice(PRODUCT_AREAS), use=rng.choice(USE_CASES), ask=rng.choice(ROADMAP_ASKS),
        system=rng.choice(SYSTEMS), month=rng.choice(MONTHS), weekday=rng.choice(WEEKDAYS),
        n=rng.choice((6, 8, 10, 12, 15, 20, 25, 30, 40)),
        big=rng.choice((600, 750, 900, 1200, 1500)))


def customer_line(b: HistoryBuilder, text: str, sku: str, reply_key: str,
                  strict: gp.Taxonomy, loose: gp.Taxonomy, reason: str | None = None) -> dict:
    """A planted customer line, checked to carry its SKU's trigger the way it claims."""
    if reason in (None, "conditional", "negative-example"):
        gp.check_plant_line(strict, loose, gp.cust(text, sku=sku),
                            {sku: reason} if reason else {})
    else:  # negated: carries the trigger and is no conditional or negative example
        assert sku in strict.call_skus(text) and loose.call_skus(text) == [sku], text
        assert not loose.is_conditional(text) and not loose.is_negative(sku, text), text
    lead = b.rng.choice(gp.LEAD_INS) if b.rng.random() < 0.2 else None
    line = gp.cust(text, lead=lead, sku=sku)
    line["reply"] = b.rng.choice(REPLIES[reply_key])
    if b.rng.random() < 0.4:
        line["follow"] = b.rng.choice(FOLLOWS)
    return line


def build_history(base: gp.Builder, plant_ids: dict[str, str],
                  references: dict[str, bytes]) -> HistoryBuilder:
    """The eight past weeks' records, in a builder of their own."""
    text = references[gp.TAXONOMY_FILE].decode("utf-8")
    loose, strict = gp.Taxonomy(text), gp.Taxonomy(text, gp.STRICT_SLOT)
    b = HistoryBuilder(base, HISTORY_SEED)
    account = {a["id"]: a for a in b.accounts}
    # No planted evidence where the demo week's files already say something in the past
    # weeks' range, nor on an account with a stakeholder change, nor on the demo week's
    # planted accounts: their story stays theirs.
    start = iso(gp.WINDOW_START)
    inherited_calls = {c["account_id"] for c in base.calls if c["occurred_at"] < start}
    touched = (inherited_calls
               | {u["account_id"] for u in base.usage if u["occurred_at"] < start}
               | {t["account_id"] for t in base.tickets if t["opened_at"] < start}
               | {c["account_id"] for c in base.changes} | set(plant_ids.values()))
    book: dict[str, list[str]] = {}
    for acc in b.accounts:
        if acc["id"] not in touched:
            book.setdefault(acc["owner_email"], []).append(acc["id"])
    free_pool = sorted(set(account) - touched)
    for week, end in enumerate(WEEK_ENDS):
        b.week_start = end - timedelta(days=gp.WINDOW_DAYS)
        used: set[str] = set()  # one planted story per account and week
        calls: dict[str, list[dict]] = {}  # account -> planted lines for its call

        def pick(owner: str | None, segments: set[str] | None = None,
                 used: set[str] = used) -> str:
            pool = book[gp.email_of(CSM[owner], gp.LUMEN_DOMAIN)] if owner else free_pool
            choices = [a for a in pool if a not in used
                       and (not segments or account[a]["segment"] in segments)]
            aid = b.rng.choice(choices)
            used.add(aid)
            return aid

        # Strong (and champion-suppressed) signals.
        for key in sorted(STRONG[week]):
            for flavour in STRONG[week][key]:
                name, _, departed = flavour.partition("@")
                sku, templates, usage = FLAVOURS[name]
                big = {"enterprise", "mid-market"} if name in ("pricing", "hipaa", "soc2",
                                                                "questionnaire") else None
                aid = pick(key, big)
                line = customer_line(b, fill(b.rng, b.rng.choice(templates)), sku,
                                     "auditlog" if name == "auditlog" else sku, strict, loose)
                calls.setdefault(aid, []).append(line)
                b.add_usage(aid, usage(b, aid), b.in_window(False))
                if departed:
                    when = gp.parse_iso(departed)
                    assert end - timedelta(days=CHAMPION_LOOKBACK_DAYS) <= when < end
                    b.add_change(aid, "departure", b.rng.choice(gp.CHANGE_ROLES), True, when)
                    # Its later weeks' look-backs hold the departure: no more plants there.
                    book[gp.email_of(CSM[key], gp.LUMEN_DOMAIN)].remove(aid)
        # Weak evidence.
        plan = WEAK[week]
        for name in plan["call"]:
            sku, templates, _ = FLAVOURS[name]
            aid = pick(None)
            calls.setdefault(aid, []).append(
                customer_line(b, fill(b.rng, b.rng.choice(templates)), sku, sku, strict, loose))
        for name in plan["usage"]:
            aid = pick(None)
            b.add_usage(aid, FLAVOURS[name][2](b, aid), b.in_window(False))
        for name in plan["ticket"]:
            _, subject, body, tags = TICKETS[name]
            b.add_ticket(pick(None), subject, body, tags, b.in_window(False))
        for index in plan["past"]:
            sku, text = PAST_ASKS[index]
            aid = pick(None)
            calls.setdefault(aid, []).append(customer_line(b, text, sku, "not_signal", strict,
                                                           loose, reason="past"))
        for reason, index in NOT_SIGNAL[week]:
            sku, text = NOT_SIGNAL_LINES[reason][index]
            aid = pick(None)
            calls.setdefault(aid, []).append(customer_line(b, text, sku, "not_signal", strict,
                                                           loose, reason=reason))
        # Every planted line on a call of its own account; then the background.
        for aid in sorted(calls):
            b.add_call(aid, b.in_window(), plants=calls[aid])
        add_background_week(b, week, set(calls), inherited_calls if week == WEEKS - 1
                            else set())
    add_background_changes(b, free_pool)
    check_history(b, base, loose)
    return b


def add_background_week(b: HistoryBuilder, week: int, with_call: set[str],
                        inherited: set[str]) -> None:
    """Calls on the week's share of accounts (the planted ones included), in-band usage
    and ordinary tickets on active accounts, and a few accounts active without a call."""
    ids = sorted(a["id"] for a in b.accounts)
    target = round(COVERAGE[week] * len(ids))
    have = with_call | inherited
    # Enterprise accounts meet their CSM more often than smb ones.
    weight = {"enterprise": 3.0, "mid-market": 1.6, "smb": 1.0}
    rest = [a for a in ids if a not in have]
    keyed = sorted(rest, key=lambda a: b.rng.random() ** (1 / weight[b.meta[a]["segment"]]),
                   reverse=True)
    new_calls = keyed[:max(0, target - len(have))]
    url_only_left = b.rng.choice((1, 2))
    for aid in new_calls:
        n_calls = 2 if b.rng.random() < TWO_CALL_SHARE else 1
        for _ in range(n_calls):
            url_only = url_only_left > 0 and n_calls == 1 and b.rng.random() < 0.03
            url_only_left -= url_only
            long = b.rng.random() < LONG_CALL_SHARE and not url_only
            b.add_call(aid, b.in_window(), url_only=url_only,
                       target_words=b.rng.randint(900, 1_400) if long else None)
    quiet = keyed[len(new_calls):]
    active_only = quiet[:round(ACTIVE_NO_CALL_SHARE * len(ids))]
    for aid in [*new_calls, *sorted(with_call), *active_only]:
        n_usage = b.rng.choice((0, 1, 1, 2))
        for _ in range(n_usage):
            b.background_usage(aid, b.in_window(False), above_band_ok=True)
        ticket = b.rng.random() < (0.5 if aid in active_only else 0.15)
        if ticket:
            b.background_ticket(aid, b.in_window(False))
        if aid in active_only and not n_usage and not ticket:
            b.background_usage(aid, b.in_window(False))


def add_background_changes(b: HistoryBuilder, pool: list[str]) -> None:
    """Hires and promotions from the first week's champion look-back (so the feed
    covers every past week's) to the demo week's: org-chart churn that suppresses
    nothing (only a champion's departure does), all before the demo week's look-back,
    which keeps the stakeholder changes it reads exactly its own."""
    first = FIRST_WEEK_END - timedelta(days=CHAMPION_LOOKBACK_DAYS + 1)
    days = (gp.LOOKBACK_START - first).days
    step = days // BACKGROUND_CHANGES
    for i, aid in enumerate(b.rng.sample(pool, BACKGROUND_CHANGES)):
        day = i * step + (b.rng.randrange(step) if i else 0)  # the first on the first day
        when = first + timedelta(days=day, minutes=b.rng.randrange(14 * 60, 22 * 60))
        kind = ("new_hire", "promotion")[i % 2]
        b.add_change(aid, kind, b.rng.choice(gp.CHANGE_ROLES), b.rng.random() < 0.3, when)


def check_history(b: HistoryBuilder, base: gp.Builder, taxonomy: gp.Taxonomy) -> None:
    """What keeps the demo week as it was, and the past weeks' text honest."""
    end = iso(gp.WINDOW_START)
    assert all(c["occurred_at"] < end for c in b.calls)
    assert all(u["occurred_at"] < end for u in b.usage)
    assert all(t["opened_at"] < end for t in b.tickets)
    lookback = iso(gp.LOOKBACK_START)
    assert all(change["occurred_at"] < lookback for change in b.changes)
    ids = [c["call_id"] for c in base.calls + b.calls]
    assert len(ids) == len(set(ids)), "call ids repeat"
    events = [u["event_id"] for u in base.usage + b.usage]
    assert len(events) == len(set(events)), "usage event ids repeat"
    tickets = [t["ticket_id"] for t in base.tickets + b.tickets]
    assert len(tickets) == len(set(tickets)), "ticket ids repeat"
    for pool in EXTRA_MIDDLE:
        for _, text in pool:
            assert not gp.BACKGROUND_BANNED.search(gp.fold(text)), text
    gp.check_background(taxonomy, b.background_texts + FOLLOWS + [r for rs in REPLIES.values()
                                                        for r in rs],
                        b.background_tickets)


def iso(moment: datetime) -> str:
    return gp.iso(moment)


# --- writing ---------------------------------------------------------------------------------


def demo_references(folder: Path) -> dict[str, bytes]:
    """The demo's own reference files (they only check text and set bands)."""
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.md"))}


def build(references: dict[str, bytes]) -> tuple[dict[str, list], dict]:
    """The demo's record files with the past weeks, and the demo week's expected.json."""
    base, plant_ids, files, expected, _ = gp.demo_week(gp.DEMO_SEED, references)
    history = build_history(base, plant_ids, references)
    merged = gp.Builder(0, base.bands)
    merged.accounts = base.accounts
    merged.calls = base.calls + history.calls
    merged.usage = base.usage + history.usage
    merged.tickets = base.tickets + history.tickets
    merged.changes = base.changes + history.changes
    out = merged.files()
    out["health"] = files["health"]
    return out, expected


def write(out: Path, references: Path = DEMO / "references") -> dict[str, list]:
    """Write the demo's data files (references/ untouched) into `out`. Where `out`
    already holds an expected.json, the rebuilt demo week must match it."""
    files, expected = build(demo_references(references))
    known = out / "expected.json"
    if known.is_file() and known.read_text(encoding="utf-8") != gp.dump(expected):
        raise SystemExit(f"{known} is not the demo week this script rebuilds: regenerate "
                         "with examples/generate_portfolio.py first")
    out.mkdir(parents=True, exist_ok=True)
    for name, records in files.items():
        (out / f"{name}.json").write_text(gp.dump(records), encoding="utf-8")
    (out / "expected.json").write_text(gp.dump(expected), encoding="utf-8")
    return files


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEMO,
                        help="folder for the data files (default: examples/portfolio)")
    parser.add_argument("--references", type=Path, default=DEMO / "references",
                        help="the demo's reference files (default: examples/portfolio/"
                             "references)")
    args = parser.parse_args(argv)
    files = write(args.out, args.references)
    counts = {name: len(files[name]) for name in RECORD_FILES}
    print(f"wrote {args.out}: {counts}; weeks ending "
          f"{', '.join(e.date().isoformat() for e in WEEK_ENDS)} and 2026-11-23")


if __name__ == "__main__":
    main()
