"""Generate the Lumen demo portfolio: the week esd's dry-run is demonstrated and checked on.

Lumen is a fictional product-analytics vendor with six CSMs and 214 customer accounts
(30 enterprise, 72 mid-market, 112 smb). The script writes, into `examples/portfolio/`:

- the five input files of contract §2 (`accounts.json`, `calls.json`, `usage_events.json`,
  `support_tickets.json`, `stakeholder_changes.json`) for the week before Monday
  2026-11-23 (window [2026-11-16, 2026-11-23), champion look-back from 2026-10-24);
- `references/`: the team's three reference files, copied from the repository, with one
  change a CSM lead would really make: the just-launched `ai-assistant` SKU is added to
  the taxonomy, while the action library has no section for it yet;
- `expected.json`: what a correct run must produce (silent accounts, each CSM's ranked and
  capped strong list, overflow and weak list, the not_signal log, the signals whose action
  is `needs human review`, coverage), derived from the scenario table below, never from a
  matcher; its `scenarios` key says which plant sits on which account, and why.

What it plants, and why. Most accounts are *background*: realistic calls (greetings,
usage review, open issues, training, renewal timing, next steps), in-band usage noise
and ordinary support tickets. Background text is asserted to contain no call-trigger
phrase, ticket tag or ticket subject of the taxonomy, and background usage is asserted
to stay inside its segment band (or to map to no SKU), so every signal in a correct
run comes from `PLANTS`. Each plant sits on its own account and exercises one rule of
contract §5/§6: the strong-signal cutoff, the per-CSM cap and its tie-break, the
champion-departure guard (and its look-back edge), segment baselines, null deltas, the
feature filter of usage triggers, the conditional and negative-example layers, coach
and unknown-speaker mentions, ticket evidence, window edges, silent accounts and a SKU
with no action (`needs human review`).

`build_portfolio(n)` reuses the same parts to make large background portfolios (one call
per account per week, alternating transcript forms, a sprinkling of signals) for the
benchmarks.

Deterministic: one `random.Random(seed)`, no clock reads; two runs give identical bytes.

The committed demo also holds the eight weeks before this one (for `esd backtest` and
`esd report`): this script ends by running examples/tools/make_past_weeks.py, which
rebuilds this week in memory and adds them (`--current-week-only` leaves them out).

    python examples/generate_portfolio.py [--out examples/portfolio] [--current-week-only]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

# --- the demo week (contract §3) --------------------------------------------------------

AS_OF = datetime(2026, 11, 23, tzinfo=UTC)  # a Monday
WINDOW_DAYS = 7
WINDOW_START = AS_OF - timedelta(days=WINDOW_DAYS)
LOOKBACK_START = AS_OF - timedelta(days=30)
LAST_WEEK = datetime(2026, 11, 10, tzinfo=UTC)  # outside the window: must be ignored
CAP_PER_CSM = 3
DEMO_SEED = 7

HERE = Path(__file__).resolve().parent
REPO_REFERENCES = HERE.parent / "references"
TAXONOMY_FILE = "1-expansion-signal-taxonomy.md"
BASELINE_FILE = "2-segment-baseline-config.md"
SEGMENTATION_FILE = "4-segmentation.md"
ACTIONS_FILE = "3-action-library.md"

# The SKU CS Ops added to the taxonomy after launch; nobody has written its actions yet.
NEW_SKU_SECTION = """### SKU: ai-assistant

- **Call triggers**:
  - "AI assistant" / "summarize our dashboards" (launched October 2026 as an add-on to every plan)
- **Usage triggers**:
  - `tier_gated_feature_attempt` for `ai-assistant` features
- **Ticket triggers**:
  - tags include `ai-assistant`
- **Negative-example phrases**:
  - "turned off the AI assistant"

"""
SKUS_WITHOUT_ACTIONS = ("ai-assistant",)

# --- Lumen staff -----------------------------------------------------------------------

# (full name, title, owner_name present on that CSM's account records?)
CSMS = [
    ("Ana Ruiz", "Senior Customer Success Manager", True),
    ("Marcus Chen", "Customer Success Manager", False),
    ("Priya Natarajan", "Customer Success Manager", True),
    ("Tom Becker", "Senior Customer Success Manager", False),
    ("Jess Okafor", "Customer Success Manager", True),
    ("Diego Morales", "Customer Success Manager", False),
]
SOLUTIONS_ENGINEERS = ["Kenji Watanabe", "Lena Fischer"]
LUMEN_DOMAIN = "lumen.example.com"

# --- segments (ARR ranges from the brief; tiers are Lumen's current plans) --------------

SEGMENTS = {
    "enterprise": {"count": 30, "arr": (150_000, 1_200_000), "step": 1_000,
                   "tiers": ("business", "business", "enterprise"), "seats": (300, 2_000),
                   "users": (250, 1_400), "contacts": (3, 4)},
    "mid-market": {"count": 72, "arr": (30_000, 150_000), "step": 500,
                   "tiers": ("growth", "business"), "seats": (50, 200),
                   "users": (40, 180), "contacts": (2, 4)},
    "smb": {"count": 112, "arr": (3_000, 30_000), "step": 100,
            "tiers": ("starter", "growth"), "seats": (5, 50),
            "users": (4, 45), "contacts": (2, 3)},
}

# --- names -----------------------------------------------------------------------------

COMPANY_STEMS = [
    "Northwind", "Bluefin", "Cedar Point", "Harborview", "Ironwood", "Juniper", "Kestrel",
    "Lakeshore", "Maplecrest", "Meridian", "Oakridge", "Pinecrest", "Quarry Hill", "Redwood",
    "Saltmarsh", "Silverline", "Summit Ridge", "Tidewater", "Vantage", "Willowbrook",
    "Brightpath", "Clearwater", "Driftwood", "Evergreen", "Foxglove", "Granite Bay",
    "Highland", "Emberly", "Larkspur", "Monarch", "Nimbus", "Orchard Lane", "Pioneer",
    "Riverbend", "Sequoia", "Starling", "Thistle", "Upland", "Verdant", "Westbrook", "Alder",
    "Beacon Hill", "Copperleaf", "Dovetail", "Fairhaven", "Goldcrest", "Halcyon", "Ivorygate",
    "Keystone", "Lighthouse", "Marigold", "Northstar", "Osprey", "Parkside", "Quillon",
    "Rosewood", "Sterling", "Trailhead", "Bramblewood", "Vista Verde", "Wavecrest", "Ashford",
]
COMPANY_KINDS = [
    "Logistics", "Health", "Foods", "Robotics", "Financial", "Learning", "Energy", "Biotech",
    "Retail", "Media", "Labs", "Software", "Freight", "Insurance", "Dental", "Outdoor", "Home",
    "Hospitality", "Payments", "Capital", "Studios", "Systems", "Apparel", "Pharmacy",
    "Construction", "Mobility", "Networks", "Marine", "Farms", "Travel", "Legal", "Realty",
]
COMPANY_SUFFIXES = ["", "", " Inc.", " LLC", " Group", " Co.", " Partners", " Holdings"]
COMPANY_REGIONS = ["", " West", " Europe", " Canada", " Asia Pacific", " Nordics", " UK",
                   " Iberia", " Australia", " Midwest", " Texas", " Benelux"]

FIRST_NAMES = [
    "Dana", "Ravi", "Chloe", "Mateo", "Hannah", "Omar", "Grace", "Lukas", "Aisha", "Noah",
    "Sofia", "Ethan", "Mei", "Daniel", "Leila", "Owen", "Ines", "Caleb", "Yuki", "Samir",
    "Elena", "Jonah", "Fatima", "Liam", "Nadia", "Felix", "Rosa", "Isaac", "Amara", "Victor",
    "Claire", "Hugo", "Zara", "Adrian", "Maya", "Theo", "Lucia", "Malik", "Greta", "Ryan",
    "Anika", "Pablo", "Erin", "Tariq", "Julia", "Arjun", "Nora", "Ben", "Keiko", "Carlos",
    "Helen", "Andre", "Olivia", "Kwame", "Ingrid", "Marco", "Layla", "Simon", "Tess", "Hamza",
]
LAST_NAMES = [
    "Lee", "Shah", "Dubois", "Garcia", "Kim", "Haddad", "Nguyen", "Weber", "Bello", "Brooks",
    "Rossi", "Park", "Lin", "Murphy", "Farah", "Jensen", "Costa", "Reyes", "Tanaka", "Iyer",
    "Novak", "Hughes", "Mensah", "Walsh", "Petrov", "Ortiz", "Silva", "Cohen", "Adeyemi",
    "Larsen", "Moreau", "Schmidt", "Ali", "Baker", "Kowalski", "Singh", "Fontaine", "Yilmaz",
    "Grant", "Sato", "Romero", "Okoye", "Lindgren", "Doyle", "Mehta", "Castillo", "Hale",
    "Abbott", "Vargas", "Kaur", "Nakamura", "Byrne", "Herrera", "Quinn", "Falk", "Osei",
]
CUSTOMER_TITLES = [
    "VP of Operations", "Director of Product", "Head of Data", "Product Operations Manager",
    "Senior Data Analyst", "Analytics Lead", "Director of Customer Experience",
    "Marketing Operations Lead", "Head of Growth", "Engineering Manager", "Chief of Staff",
    "Business Intelligence Manager", "Director of Revenue Operations", "Product Manager",
]
IT_TITLES = ["Director of IT", "IT Manager", "Head of IT", "Systems Administrator"]
CHANGE_ROLES = [
    "VP of Operations", "Director of Product", "Head of Data", "Analytics Lead", "CTO",
    "Director of IT", "Product Operations Manager", "Head of Growth", "Engineering Manager",
]

# --- conversation pools ----------------------------------------------------------------
#
# Each exchange is a few (role, text) turns. Roles: csm (the owner), cust (the main
# customer attendee), cust2 (a second customer attendee), se (a Lumen solutions
# engineer). An exchange is only used on a call where all its roles are present.
# Placeholders: {csm} {cust} {cust2} {se} (first names), {company}, {feature},
# {users}, {pct}, {n2}, {weekday}, {renewal_month}, {draft_month}.
# None of this text may contain a taxonomy phrase: `check_background` enforces it.

GREETINGS = [
    [("csm", "Hi {cust}, thanks for making the time today. How was your week?"),
     ("cust", "Hey {csm}, good to see you. It has been a busy one, we just wrapped quarterly "
              "planning so things are finally calming down."),
     ("csm", "Glad to hear it. I know planning season can swallow a whole month.")],
    [("csm", "Morning {cust}! Can you hear me okay? My connection was a bit choppy earlier."),
     ("cust", "Loud and clear. Sorry I'm a couple of minutes late, my previous meeting ran over."),
     ("csm", "No worries at all, we have the full half hour."),
     ("cust2", "Hi {csm}, I'm on too. I'll mostly listen today, but I have one or two questions "
               "for later.")],
    [("csm", "Hey {cust}, happy {weekday}. Did you get any time off recently?"),
     ("cust", "A little, yes. We drove up to see family, which was nice, and now I'm catching up "
              "on email."),
     ("csm", "The inbox after a trip is always a lot. Let's keep this one focused then.")],
    [("cust", "Hi {csm}, sorry, give me one second to close the door. Okay, we're good."),
     ("csm", "Hi {cust}, thanks for jumping on. I saw the snow pictures your team posted, that "
             "looked intense."),
     ("cust", "It was, half the office worked from home on Tuesday. Everything still ran fine "
              "though.")],
    [("csm", "Hi everyone, thanks for joining. {cust}, I think you've met {se} before, {se} is on "
             "our solutions team."),
     ("se", "Hi all, good to see you again. I'm mostly here to take notes on the technical "
            "questions."),
     ("cust", "Great, welcome back. We do have a couple of technical things this time, so good "
              "timing.")],
    [("csm", "Hi {cust}, hi {cust2}. Thanks for moving this from last week."),
     ("cust2", "Of course, sorry about the reschedule. We had an offsite that ate the whole "
               "week."),
     ("cust", "Yes, sorry about that. We're all here now though.")],
    [("cust", "Hello hello. Is it just us today?"),
     ("csm", "Just us. I figured we could keep it short since we spoke a few weeks ago."),
     ("cust", "Works for me, I have a hard stop at the half hour.")],
]

AGENDAS = [
    [("csm", "I had three things on my list: a quick look at usage since our last call, the "
             "open support items, and timing for the renewal conversation. Anything you want to "
             "add?"),
     ("cust", "That works. I'd also like five minutes on training for the two analysts who "
              "joined last month."),
     ("csm", "Perfect, let's make sure we leave time for that.")],
    [("csm", "For today I thought we could walk through the adoption numbers, then talk about "
             "the export issue you flagged, and finish with next steps."),
     ("cust", "Sounds good. Let's start with the export issue actually, that's the one people "
              "keep asking me about."),
     ("csm", "Sure, we can flip the order.")],
    [("cust", "Before we start, can we make sure we cover the dashboard performance question? "
              "That's top of mind for my boss."),
     ("csm", "Absolutely. I'll put that first, then usage, then the training calendar.")],
    [("csm", "Quick agenda check: usage review, the Salesforce sync question from last time, "
             "and planning for the new year. Does that cover it?"),
     ("cust", "Yes, and maybe a quick word on the invoice, finance asked me to double check the "
              "billing contact."),
     ("csm", "Easy, I can sort that out right after the call.")],
    [("csm", "I sent a short agenda this morning, did it come through?"),
     ("cust", "It did. Usage, issues, and the holiday schedule, right?"),
     ("csm", "Exactly. And anything else that's on your mind.")],
]

MIDDLE = {
    "usage": [
        [("csm", "Looking at the last thirty days, you had about {users} weekly active users, "
                 "which is up a little from last month. The most used part of the product is "
                 "{feature} by far."),
         ("cust", "That matches what I see. People open {feature} first thing every morning."),
         ("csm", "The one area that's still quiet is annotations. Only a handful of people have "
                 "added one so far."),
         ("cust", "I don't think most of the team knows it exists. That's on me to share.")],
        [("csm", "Dashboard views were up about {pct} percent week over week, mostly driven by "
                 "the marketing workspace."),
         ("cust2", "That's the campaign reporting. We moved our weekly review onto Lumen instead "
                   "of slides."),
         ("csm", "Love that. Are people building their own charts, or mostly reading what you "
                 "publish?"),
         ("cust2", "Mostly reading for now. Two or three power users build everything else."),
         ("csm", "That's a common pattern early on. We can run a short builder session to spread "
                 "the skills around a bit.")],
        [("cust", "I pulled our own numbers before the call. We have around {users} people "
                  "logging in each week, and the product group lives in the funnels view."),
         ("csm", "That lines up with ours. Funnels and retention charts account for most of the "
                 "query volume."),
         ("cust", "The one thing I'd like is a cleaner way to share a chart with people outside "
                  "the workspace."),
         ("csm", "Public share links can do that, with an expiry date. I'll send you the help "
                 "article.")],
        [("csm", "Your saved reports count doubled since the summer, which is great. Alerts are "
                 "still barely used though."),
         ("cust", "We tried alerts once and got flooded with notifications. We switched them "
                  "back off after a day."),
         ("csm", "That usually means the thresholds were too tight. Our team can help you pick "
                 "sensible defaults."),
         ("cust", "That would be helpful, let's do that.")],
        [("csm", "Session replays are picking up too, about {n2} replays watched last week, "
                 "mostly by your support agents."),
         ("cust", "Support loves it. They use replays to reproduce bugs before they escalate to "
                  "engineering."),
         ("csm", "That's exactly the use we hoped for.")],
        [("csm", "One thing that jumped out: your notebooks usage went from almost nothing to "
                 "{n2} runs last week."),
         ("cust", "That's our data science group. They moved the churn model exploration into "
                  "notebooks so the charts sit next to the queries."),
         ("csm", "Nice. The scheduled refresh on notebooks shipped last month, so they can stop "
                 "rerunning them by hand.")],
    ],
    "issues": [
        [("cust", "The CSV export is still timing out on the bigger reports. Anything over about "
                  "fifty thousand rows just spins."),
         ("csm", "We shipped a fix for the large export path last Thursday. Can you try it again "
                 "and tell me whether it still hangs?"),
         ("cust", "I'll try it this afternoon and add a comment on the ticket."),
         ("csm", "Perfect, I'll keep an eye on it.")],
        [("cust2", "One of our dashboards takes almost a minute to load on Monday mornings. It "
                   "has about forty charts on it."),
         ("csm", "That's probably the number of charts refreshing at once. Splitting it into two "
                 "boards usually fixes it."),
         ("cust2", "Okay, we can try that. It's the executive board so I have to be a bit "
                   "careful."),
         ("csm", "Understood. I can send a short guide on caching that might help too.")],
        [("cust", "The Slack notifications stopped for one of our channels last week. We didn't "
                  "change anything on our side."),
         ("csm", "I saw that ticket. It was a token that expired during a workspace migration on "
                 "the Slack side, and reconnecting the app fixes it."),
         ("cust", "Got it, I'll ask our admin to reconnect it today.")],
        [("cust", "Timezones in the weekly email are still showing UTC for some people in "
                  "Denver."),
         ("csm", "That's a known issue with profiles created before March. Each person can set "
                 "their timezone in their profile, and we're fixing the default."),
         ("cust", "Fine for now. Just let me know when the default fix ships.")],
        [("cust", "Our Salesforce sync skipped a few custom fields again. The opportunity stage "
                  "came through but the region field didn't."),
         ("se", "Custom fields need to be added to the mapping explicitly. I'll check your "
                "mapping after the call."),
         ("cust", "Makes sense. Can you send me the list of what is mapped today?"),
         ("se", "Yes, I'll export it and send it over this afternoon.")],
        [("cust", "Not much to report on issues this time, honestly. Things have been stable."),
         ("csm", "That's what I like to hear. The only open ticket I see is the invoice copy, "
                 "which billing closed yesterday.")],
        [("cust", "We noticed the event counts in Lumen are a bit lower than in our warehouse. "
                  "Maybe two percent."),
         ("csm", "That gap is usually bot filtering. Lumen drops known crawlers by default."),
         ("cust", "Ah, that would explain it. Can we see what gets filtered?"),
         ("csm", "Yes, there's a filtered events report under data settings. I'll send the "
                 "link.")],
    ],
    "training": [
        [("csm", "We're running admin office hours every Thursday in December. Happy to send "
                 "invites to whoever manages your workspace."),
         ("cust", "Please do, send them to me and I'll forward them around.")],
        [("cust", "Two analysts joined us last month. Is there a self-paced course they can "
                  "take?"),
         ("csm", "Yes, Lumen Academy has a two-hour fundamentals track. Most people finish it in "
                 "a week."),
         ("cust", "Great, I'll add it to their onboarding checklist.")],
        [("csm", "Would a live session on building funnels help? We can do forty-five minutes "
                 "for your product managers."),
         ("cust", "Yes, that would be useful, maybe early next month once our release is out."),
         ("csm", "I'll propose a couple of slots.")],
        [("cust2", "The certification badges were a hit, by the way. Three people on my team "
                   "finished the course."),
         ("csm", "That's great to hear. I'll send over the next course once it's published.")],
        [("csm", "I recorded a short video on the new chart editor. It's about eight minutes."),
         ("cust", "Send it over. I'll drop it in our internal wiki so people find it later.")],
    ],
    "renewal": [
        [("csm", "Your renewal is coming up in {renewal_month}. I'd like to start the paperwork "
                 "about sixty days before so nothing is rushed."),
         ("cust", "That works. Procurement will want the order form early, they closed the books "
                  "late last year."),
         ("csm", "Understood. I'll have a draft ready by the first week of {draft_month}.")],
        [("cust", "Just a heads up, budget planning for next year starts in two weeks. Finance "
                  "will ask me about the renewal."),
         ("csm", "Thanks for the warning. I can send a summary of usage and value for you to "
                 "share internally."),
         ("cust", "That would save me a lot of time.")],
        [("csm", "On the renewal, nothing changes on our side in terms of contract terms. The "
                 "order form will look like last year's."),
         ("cust", "Good. Our legal group will still want to review it, so send it over as early "
                  "as you can."),
         ("csm", "Will do. I'll include the updated data processing addendum too.")],
        [("cust", "Who should I talk to about moving our billing to annual invoicing?"),
         ("csm", "That's me. I'll put our billing team on the email thread and we can sort it "
                 "out this week.")],
    ],
    "extras": [
        [("cust", "We're moving our warehouse from Redshift to Snowflake in the first quarter. "
                  "Will the connector need to be reconfigured?"),
         ("se", "It will, but it's a ten-minute change. We have a migration guide and we can "
                "review it together when you're ready."),
         ("cust", "Great, I'll ping you when we have a date.")],
        [("cust2", "Some of the sales team asked about the mobile app. Is it any good yet?"),
         ("csm", "It's come a long way. Read-only dashboards work well on phones, editing is "
                 "still desktop only."),
         ("cust2", "Read-only is all they want, so that's fine.")],
        [("cust", "One small request: the date picker resets when you switch tabs. It drives "
                  "people a bit crazy."),
         ("csm", "I'll file that with our product team and share the ticket number.")],
        [("cust", "Our head of product is presenting a Lumen dashboard at the all-hands next "
                  "week."),
         ("csm", "That's great. If she wants a hand polishing it, I'm happy to review it with "
                 "her."),
         ("cust", "I'll let her know, she'll probably take you up on it.")],
        [("csm", "How did the holiday traffic test go? Last time you were worried about the "
                 "event volume."),
         ("cust", "It went fine. Ingestion kept up and the dashboards stayed current all day."),
         ("csm", "Good to hear, that was a big week for you.")],
    ],
}

CLOSINGS = [
    [("csm", "Okay, to recap: I'll send over the notes and the links I mentioned, and you'll "
             "check the open items with your team. Anything I missed?"),
     ("cust", "No, that covers it. Thanks {csm}."),
     ("csm", "Thanks everyone, talk soon.")],
    [("csm", "Let's pick a date for the next check-in. How about the same time in two weeks?"),
     ("cust", "Works for me. I'll keep the invite."),
     ("cust2", "Same here, thanks for the help today.")],
    [("cust", "Can you put the action items in an email? I want to forward them to my manager."),
     ("csm", "Of course, you'll have it within the hour. Have a great rest of your week."),
     ("cust", "You too, bye.")],
    [("csm", "I think that's everything on my side. Anything else before we wrap?"),
     ("cust", "Nope, all good. Thanks for the time."),
     ("csm", "Take care, {cust}.")],
]

LEAD_INS = [
    "One more thing before I forget.", "Also, a question from our side.",
    "Something that came up in our planning meeting.", "Quick one while we're on the topic.",
    "Our IT director asked me to check one thing.", "So, related to that.",
]
REPLIES = {
    "enterprise-tier": [
        "Good question. I'll bring our solutions engineer to the next call and send the setup "
        "documentation ahead of time.",
        "Let me get you the details on that in writing this week, with the plan options.",
    ],
    "additional-team-seats": [
        "That's great news. I'll get the onboarding materials ready for the new group.",
        "Nice, let's plan a short onboarding session for them.",
    ],
    "premium-feature-pack": [
        "Let me check with our product team and come back to you with specifics this week.",
        "Good question. I'll set up a walkthrough with our product specialist.",
    ],
    "ai-assistant": ["It's one of our newest features. I'll send you a short demo recording."],
    "not_signal": ["Noted, I'll pass that feedback to our product team.",
                   "Understood, thanks for being upfront about it."],
}

# --- support tickets (background topics: no taxonomy tag, subject or phrase) ------------

TICKET_TOPICS = [
    ("CSV export times out on large reports",
     "Exports of reports with more than 50k rows spin for several minutes and then fail. "
     "Smaller reports export fine.", ["csv-export", "bug"]),
    ("Executive dashboard slow to load",
     "Our main dashboard with about 40 charts takes close to a minute to load on Monday "
     "mornings.", ["performance", "dashboards"]),
    ("Billing address change",
     "We moved offices. Please update the billing address on our invoices to the new "
     "location.", ["billing"]),
    ("Password reset email not arriving",
     "One of our analysts requested a password reset twice and never received the email. "
     "Spam folder checked.", ["login", "email-delivery"]),
    ("Slack integration question",
     "Can the weekly digest be posted to a private Slack channel, or only public ones?",
     ["integrations", "slack"]),
    ("Need a copy of the October invoice",
     "Finance asked for a PDF copy of last month's invoice for their records.", ["billing"]),
    ("Chart colors reset after editing",
     "When we edit a saved chart, the custom colors go back to the default palette.",
     ["bug", "charts"]),
    ("Wrong timezone in weekly email",
     "Some users see UTC times in the weekly summary email even though their profile is set "
     "to Mountain Time.", ["email", "timezone"]),
    ("Salesforce sync skipping custom fields",
     "The region field on opportunities is not coming through to Lumen after the last sync.",
     ["integrations", "salesforce"]),
    ("How do I delete an old project?",
     "We have a test project from last year that we want to remove completely.",
     ["how-to", "projects"]),
    ("Mobile app crashes on startup",
     "Since the latest iOS update, the app closes right after the splash screen for two of "
     "our users.", ["mobile", "bug"]),
    ("Bulk import of historical events",
     "We want to backfill two years of events from our warehouse. What format does the "
     "importer expect?", ["data-import", "how-to"]),
    ("Embed a dashboard in Notion",
     "Is there a way to embed a live Lumen dashboard in a Notion page for our wiki?",
     ["integrations", "how-to"]),
    ("Data refresh delayed this morning",
     "Dashboards were showing data from yesterday until about 10am today. Is there an "
     "incident?", ["data-freshness"]),
    ("Rotate our API key",
     "Our engineer who set up the ingestion key left the company. How do we rotate the key "
     "without losing events?", ["api", "how-to"]),
    ("Duplicate events after SDK upgrade",
     "After upgrading the JavaScript SDK, page view events seem to be counted twice.",
     ["sdk", "bug"]),
    ("Request to delete a former user's data",
     "A former employee asked us to remove their personal data. What is the process on your "
     "side?", ["privacy", "gdpr"]),
    ("Funnel step order looks wrong",
     "Our checkout funnel shows step three before step two for some sessions.",
     ["funnels", "bug"]),
    ("Change workspace owner",
     "Our current workspace owner is going on parental leave. Please transfer ownership to "
     "our operations manager.", ["admin", "account"]),
    ("Saved filters missing after rename",
     "After renaming a project, the saved filters on three dashboards disappeared.",
     ["bug", "filters"]),
]

# --- the planted scenarios -------------------------------------------------------------
#
# One account each. `says` are the planted lines (a customer unless marked coach() or
# unknown()); `usage`/`tickets`/`changes` the planted records; `expect` the outcome per
# SKU ("strong" or a weak reason code); `not_signal` the (sku, reason) the planted call
# must log. `calls`: "in" (default: one call in the window carries the lines), "split"
# (one call per line), "none", or "last_week"/"as_of" (the call sits outside the window).


def cust(text, lead=None, sku=None):
    return {"role": "cust", "text": text, "lead": lead, "sku": sku}


def coach(text, sku):
    return {"role": "csm", "text": text, "lead": None, "sku": sku}


def unknown(name, text, sku):
    return {"role": "unknown", "name": name, "text": text, "lead": None, "sku": sku}


def gated(feature, base=0, current=4, delta="auto", at=None):
    return ("tier_gated_feature_attempt", "tier_gated_feature_attempts", feature, base, current,
            delta, at)


def seats(base, current, at=None):
    return ("seat_count_spike", "seat_count", None, base, current, "auto", at)


def api(base, current, at=None):
    return ("api_call_spike", "api_calls", None, base, current, "auto", at)


def first_use(feature, department, users, at=None):
    return ("feature_first_use", "department_active_users", feature, 0, users, 100.0, at,
            department)


ENT, SEATS, PREMIUM, AI = ("enterprise-tier", "additional-team-seats", "premium-feature-pack",
                           "ai-assistant")

PLANTS = [
    # --- strong: ana gets five, so the cap of 3 shows three and overflows two ----------
    {"key": "S01", "owner": "Ana Ruiz", "segment": "enterprise", "tier": "business",
     "arr": 842_000, "renewal": "2027-04-30", "calls": "split",
     "why": "two strong SKUs on one account (each uses a place under the cap)",
     "says": [cust("Do you support SSO with Okta?", lead=LEAD_INS[4], sku=ENT),
              cust("We're rolling out to 40 more people in January.", sku=SEATS)],
     "usage": [gated("sso", 0, 14), seats(640, 700)],
     "expect": {ENT: "strong", SEATS: "strong"}},
    {"key": "S02", "owner": "Ana Ruiz", "segment": "mid-market", "tier": "growth",
     "arr": 96_000, "renewal": "2027-02-15",
     "why": "ARR tie with S03, earlier renewal wins the third place (its id sorts later)",
     "says": [cust("Does the report builder support cohort exports?", sku=PREMIUM)],
     "usage": [gated("advanced-analytics", 0, 6)],
     "expect": {PREMIUM: "strong"}},
    {"key": "S03", "owner": "Ana Ruiz", "segment": "mid-market", "tier": "growth",
     "arr": 96_000, "renewal": "2027-06-30",
     "why": "ARR tie with S02, later renewal: overflow; curly apostrophe in the trigger",
     "says": [cust("We’re trying to build cohort funnels — is that on the roadmap?",
                   sku=PREMIUM)],
     "usage": [api(82_000, 132_000)],
     "expect": {PREMIUM: "strong"}},
    {"key": "S04", "owner": "Ana Ruiz", "segment": "smb", "tier": "starter",
     "arr": 18_400, "renewal": "2027-01-29",
     "why": "feature_first_use has no baseline row: kept and counted; overflow for ana",
     "says": [cust("The finance team is also starting to use the dashboards.", sku=SEATS)],
     "usage": [first_use("dashboards", "finance", 9)],
     "expect": {SEATS: "strong"}},
    # --- strong for the other CSMs (diego gets none) ---------------------------------
    {"key": "S05", "owner": "Marcus Chen", "segment": "mid-market", "tier": "business",
     "arr": 74_500, "why": "new SKU with no action-library section: needs human review",
     "says": [cust("Can the AI assistant summarize our dashboards before the Monday exec "
                   "review?", sku=AI)],
     "usage": [gated("ai-assistant", 0, 11)],
     "expect": {AI: "strong"}},
    {"key": "S06", "owner": "Marcus Chen", "segment": "enterprise", "tier": "business",
     "why": "champion departed 2026-10-10, before the look-back: stays strong",
     "says": [cust("Our security team needs the audit log exported to Splunk every night.",
                   sku=ENT)],
     "usage": [gated("audit-log", 0, 5)],
     "changes": [("departure", "VP of Operations", True, "2026-10-10T16:00:00Z")],
     "expect": {ENT: "strong"}},
    {"key": "S07", "owner": "Priya Natarajan", "segment": "enterprise", "tier": "business",
     "why": "a non-champion departed inside the look-back: stays strong",
     "says": [cust("Procurement sent us a security questionnaire and we want it back to them "
                   "this week.", sku=ENT)],
     "usage": [gated("rbac", 1, 7)],
     "changes": [("departure", "Senior Data Analyst", False, "2026-11-12T15:00:00Z")],
     "expect": {ENT: "strong"}},
    {"key": "S08", "owner": "Priya Natarajan", "segment": "mid-market", "tier": "growth",
     "why": "a counted seat spike maps to two SKUs: strong seats, usage-only enterprise-tier",
     "says": [cust("We need 25 more seats before the support group starts in December.",
                   sku=SEATS)],
     "usage": [seats(100, 114)],
     "expect": {SEATS: "strong", ENT: "usage-only"}},
    {"key": "S09", "owner": "Tom Becker", "segment": "enterprise", "tier": "business",
     "why": "strong enterprise-tier: HIPAA mention + gated sso attempt",
     "says": [cust("HIPAA comes up in every review now that the clinical ops group is on the "
                   "platform.", sku=ENT)],
     "usage": [gated("sso", 0, 3)],
     "expect": {ENT: "strong"}},
    {"key": "S10", "owner": "Tom Becker", "segment": "smb", "tier": "growth",
     "why": "usage event at exactly the window start (inside)",
     "says": [cust("We keep hitting the API rate limit when the nightly sync runs.",
                   sku=PREMIUM)],
     "usage": [api(20_000, 37_000, at="2026-11-16T00:00:00Z")],
     "expect": {PREMIUM: "strong"}},
    {"key": "S11", "owner": "Jess Okafor", "segment": "mid-market", "tier": "business",
     "why": "strong seats: new hires + first use of reports by the support department",
     "says": [cust("We have 12 new hires starting in support on December 1.", sku=SEATS)],
     "usage": [first_use("reports", "support", 12)],
     "expect": {SEATS: "strong"}},
    # --- champion-departure suppression (inside the look-back) ------------------------
    {"key": "S12", "owner": "Jess Okafor", "segment": "enterprise", "tier": "business",
     "why": "strong evidence, champion departed 2026-11-05: weak champion-departure",
     "says": [cust("Do you support SSO for contractor accounts?", sku=ENT)],
     "usage": [gated("sso", 0, 9)],
     "changes": [("departure", "Director of Product", True, "2026-11-05T18:00:00Z")],
     "expect": {ENT: "champion-departure"}},
    {"key": "S13", "owner": "Diego Morales", "segment": "mid-market", "tier": "growth",
     "why": "strong evidence, champion departed 2026-11-05: weak champion-departure",
     "says": [cust("Our analytics team needs access by the end of the month.", sku=SEATS)],
     "usage": [first_use("funnels", "analytics", 7)],
     "changes": [("departure", "Head of Data", True, "2026-11-05T14:30:00Z")],
     "expect": {SEATS: "champion-departure"}},
    # --- baselines, null delta, feature filter -------------------------------------
    {"key": "S14", "owner": "Tom Becker", "segment": "smb", "tier": "starter",
     "why": "smb seat spike +22.0% is inside 5+25: call-only",
     "says": [cust("We're rolling out to 6 more people after the holidays.", sku=SEATS)],
     "usage": [seats(50, 61)],
     "expect": {SEATS: "call-only"}},
    {"key": "S15", "owner": "Priya Natarajan", "segment": "enterprise", "tier": "business",
     "why": "enterprise seat spike +3.2% is inside 0.5+3: call-only",
     "says": [cust("Could you send a quote for 900 seats so finance can compare options?",
                   sku=ENT)],
     "usage": [seats(500, 516)],
     "expect": {ENT: "call-only"}},
    {"key": "S16", "owner": "Marcus Chen", "segment": "smb", "tier": "growth",
     "why": "gated sso attempt with a null delta_pct never counts: call-only",
     "says": [cust("Do you support SSO with Google Workspace?", sku=ENT)],
     "usage": [gated("sso", 0, 3, delta=None)],
     "expect": {ENT: "call-only"}},
    {"key": "S17", "owner": "Diego Morales", "segment": "smb", "tier": "starter",
     "why": "gated dark-mode attempt is not an enterprise-tier feature: call-only",
     "says": [cust("Do you support SSO through Azure AD?", sku=ENT)],
     "usage": [gated("dark-mode", 0, 4)],
     "expect": {ENT: "call-only"}},
    # --- conditional mentions -------------------------------------------------------
    {"key": "S18", "owner": "Ana Ruiz", "segment": "mid-market", "tier": "growth",
     "why": "conditional mention; the counted gated attempt leaves usage-only",
     "says": [cust("We'd consider upgrading if you supported SCIM provisioning.", sku=ENT)],
     "usage": [gated("sso", 0, 5)],
     "not_signal": [(ENT, "conditional")],
     "expect": {ENT: "usage-only"}},
    {"key": "S19", "owner": "Marcus Chen", "segment": "enterprise", "tier": "business",
     "why": "conditional mention ('if'), no usage: not_signal only",
     "says": [cust("If the audit log covered exports we could make the case internally.",
                   sku=ENT)],
     "not_signal": [(ENT, "conditional")], "expect": {}},
    {"key": "S20", "owner": "Jess Okafor", "segment": "smb", "tier": "growth",
     "why": "conditional guard 'thinking about the enterprise tier': not_signal only",
     "says": [cust("We're thinking about the enterprise tier for next year, mostly for SAML.",
                   sku=ENT)],
     "not_signal": [(ENT, "conditional")], "expect": {}},
    # --- negative examples ----------------------------------------------------------
    {"key": "S21", "owner": "Tom Becker", "segment": "mid-market", "tier": "business",
     "why": "negative example; the counted gated rbac attempt leaves usage-only",
     "says": [cust("We already have SSO through Okta, so SAML is covered on our side.",
                   sku=ENT)],
     "usage": [gated("rbac", 0, 2)],
     "not_signal": [(ENT, "negative-example")],
     "expect": {ENT: "usage-only"}},
    {"key": "S22", "owner": "Priya Natarajan", "segment": "smb", "tier": "growth",
     "why": "negative examples 'downgrade' / 'enterprise tier is too expensive': not_signal only",
     "says": [cust("Honestly we need to downgrade, and the enterprise tier is too expensive "
                   "for a SOC 2 add-on.", sku=ENT)],
     "not_signal": [(ENT, "negative-example")], "expect": {}},
    # --- mentions that are not a customer's -------------------------------------------
    {"key": "S23", "owner": "Diego Morales", "segment": "mid-market", "tier": "growth",
     "why": "the CSM says the trigger (coach mention): usage-only, never strong",
     "says": [coach("A lot of teams your size ask about SAML and SCIM at this stage.", sku=ENT)],
     "usage": [gated("sso", 0, 6)],
     "expect": {ENT: "usage-only"}},
    {"key": "S24", "owner": "Jess Okafor", "segment": "smb", "tier": "starter", "form": "text",
     "why": "a speaker who is not an attendee (transcript_text) says the trigger: usage-only",
     "says": [unknown("Sam Patel", "We need 10 more seats for the warehouse crew.", sku=SEATS)],
     "usage": [first_use("alerts", "warehouse", 6)],
     "expect": {SEATS: "usage-only"}},
    # --- usage only -------------------------------------------------------------------
    {"key": "S25", "owner": "Tom Becker", "segment": "enterprise", "tier": "business",
     "why": "usage only: gated sso attempt, no call mention",
     "usage": [gated("sso", 0, 8)], "expect": {ENT: "usage-only"}},
    {"key": "S26", "owner": "Priya Natarajan", "segment": "mid-market", "tier": "growth",
     "why": "usage only: api spike above the mid-market band, no call",
     "calls": "none", "usage": [api(50_000, 74_000)], "expect": {PREMIUM: "usage-only"}},
    {"key": "S27", "owner": "Diego Morales", "segment": "smb", "tier": "starter",
     "why": "usage only: gated workflow-automation attempt, no call",
     "calls": "none", "usage": [gated("workflow-automation", 0, 5)],
     "expect": {PREMIUM: "usage-only"}},
    # --- tickets ---------------------------------------------------------------------
    {"key": "S28", "owner": "Jess Okafor", "segment": "mid-market", "tier": "growth",
     "why": "ticket tag `sso`",
     "tickets": [("Login redirect loop with Okta for new users",
                  "Since Tuesday, people who sign in through Okta are sent back to the login "
                  "page after entering their password. Clearing cookies does not help.",
                  ["sso", "login"], None)],
     "expect": {ENT: "ticket-only"}},
    {"key": "S29", "owner": "Diego Morales", "segment": "smb", "tier": "starter",
     "calls": "none", "why": "ticket subject contains `add users` / `new team`",
     "tickets": [("Need to add users for the new team",
                  "Our customer support group joins the workspace next week. How do I invite "
                  "eleven people at once and put them in their own folder?",
                  ["user-management", "how-to"], None)],
     "expect": {SEATS: "ticket-only"}},
    {"key": "S30", "owner": "Ana Ruiz", "segment": "smb", "tier": "growth", "calls": "none",
     "why": "a call-trigger phrase in the ticket body",
     "tickets": [("Nightly export failing with 429 errors",
                  "We keep hitting the API rate limit during the nightly export. The job "
                  "retries and then gives up around 3am. Is there a way to raise the limit "
                  "for our account?", ["api", "export"], None)],
     "expect": {PREMIUM: "ticket-only"}},
    {"key": "S31", "owner": "Marcus Chen", "segment": "mid-market", "tier": "growth",
     "why": "call mention + ticket tagged premium-feature: call-and-ticket",
     "says": [cust("Workflow automation is the piece our ops group keeps asking me about.",
                   sku=PREMIUM)],
     "tickets": [("Question about scheduled report delivery",
                  "Can reports be sent to a shared inbox on a schedule, with the PDF attached?",
                  ["premium-feature", "reports"], None)],
     "expect": {PREMIUM: "call-and-ticket"}},
    {"key": "S32", "owner": "Priya Natarajan", "segment": "smb", "tier": "growth",
     "why": "gated audit-log attempt + ticket subject 'audit log': usage-and-ticket",
     "calls": "none",
     "usage": [gated("audit-log", 0, 3)],
     "tickets": [("Where is the audit log for admin changes?",
                  "An admin removed a dashboard last week and we want to see who did it and "
                  "when.", ["admin"], None)],
     "expect": {ENT: "usage-and-ticket"}},
    # --- window edges and silence ------------------------------------------------------
    {"key": "S33", "owner": "Jess Okafor", "segment": "smb", "tier": "growth",
     "calls": "last_week", "silent": True,
     "why": "strong-looking evidence from 2026-11-10 only: silent",
     "says": [cust("Do you support SSO with OneLogin?", sku=ENT)],
     "usage": [gated("sso", 0, 4, at="2026-11-10T17:20:00Z")], "expect": {}},
    {"key": "S34", "owner": "Tom Becker", "segment": "mid-market", "tier": "business",
     "why": "api spike at exactly as_of (outside): call-only",
     "says": [cust("Advanced analytics is what our product group wants next quarter.",
                   sku=PREMIUM)],
     "usage": [api(40_000, 70_000, at="2026-11-23T00:00:00Z")],
     "expect": {PREMIUM: "call-only"}},
    {"key": "S35", "owner": "Marcus Chen", "segment": "smb", "tier": "starter",
     "calls": "as_of", "silent": True,
     "why": "call and sso ticket at exactly as_of (outside): silent, no coverage",
     "says": [cust("Do you support SSO for the whole company?", sku=ENT)],
     "tickets": [("Okta sign-in error after domain change",
                  "Users get an error page when they sign in through Okta since we changed our "
                  "email domain.", ["sso", "login"], "2026-11-23T00:00:00Z")],
     "expect": {}},
]

# build_portfolio() sprinkles these over large background portfolios, one per 40 accounts.
SPRINKLES = [
    {"says": [cust("Do you support SSO with Okta?", sku=ENT)], "usage": [gated("sso", 0, 5)]},
    {"says": [cust("Does the report builder support cohort exports?", sku=PREMIUM)],
     "usage": [gated("advanced-analytics", 0, 3)]},
    {"usage": [gated("rbac", 0, 2)]},
    {"says": [cust("We'd consider upgrading if you supported SCIM provisioning.", sku=ENT)]},
    {"says": [cust("We're rolling out to 25 more people next quarter.", sku=SEATS)],
     "usage": [first_use("dashboards", "sales", 8)]},
]

# Background volume for the demo week.
DEMO_SILENT_BACKGROUND = 13   # background accounts with no record in the window
DEMO_NO_CALL_BACKGROUND = 33  # active (usage or ticket) but no call in the window
TWO_CALL_SHARE = 0.15
URL_ONLY_CALLS = 3


# --- text checks -------------------------------------------------------------------------

_CONTRACTIONS = [
    (re.compile(r"\bcan't\b"), "cannot"), (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"n't\b"), " not"), (re.compile(r"'d\b"), " would"),
    (re.compile(r"'re\b"), " are"), (re.compile(r"'ll\b"), " will"),
    (re.compile(r"'ve\b"), " have"), (re.compile(r"'m\b"), " am"),
]
CONDITIONAL_MARKERS = re.compile(r"\b(if|would|considering|thinking about)\b")
# Words background text avoids even where no phrase would match (a margin of safety).
BACKGROUND_BANNED = re.compile(
    r"\b(sso|saml|scim|soc 2|hipaa|fedramp|audit log|compliance|security team|"
    r"security questionnaire|workflow automation|advanced analytics|downgrade|more seats|"
    r"more people|new hires|rate limit|api limits?|ai assistant|enterprise tier|"
    r"enterprise plan|roadmap|rolling out|starting to use|needs access|pricing for|quote for|"
    r"drop down a tier|seat count)\b")
# A `{slot}` is one to four words (contract §4). Background text is checked with a wider
# slot (six words, any separator) to keep a margin; planted sentences with the exact one.
LOOSE_SLOT = r"\w+(?:\W+\w+){0,5}"
STRICT_SLOT = r"\w+(?:\s+\w+){0,3}"


def fold(text: str) -> str:
    """Lower-case and expand contractions the way contract §5.3 does."""
    text = text.lower().replace("’", "'")
    for pattern, repl in _CONTRACTIONS:
        text = pattern.sub(repl, text)
    return text


def phrase_regex(phrase: str, slot: str = LOOSE_SLOT) -> re.Pattern[str]:
    """A regex for a taxonomy phrase (contract §4 grammar)."""
    pieces = []
    for part in re.split(r"(\{[^{}]*\})", fold(phrase)):
        if part.startswith("{"):
            inner = part[1:-1]
            if "," in inner:
                pieces.append("(?:" + "|".join(re.escape(c.strip()) for c in inner.split(","))
                              + ")")
            else:
                pieces.append(slot)
        else:
            words = re.findall(r"\w+", part)
            if words:
                pieces.append(r"\W+".join(re.escape(w) for w in words))
    return re.compile(r"\b" + r"\W+".join(pieces) + r"\b")


class Taxonomy:
    """Just enough of the taxonomy file to check generated text against it."""

    def __init__(self, text: str, slot: str = LOOSE_SLOT):
        self.calls: dict[str, list[re.Pattern[str]]] = {}
        self.negatives: dict[str, list[re.Pattern[str]]] = {}
        self.tags: dict[str, list[str]] = {}
        self.subjects: dict[str, list[str]] = {}
        self.guards: list[re.Pattern[str]] = []
        sku = label = None
        for line in text.splitlines():
            heading = re.match(r"^#+\s*(.*)$", line)
            if heading:
                title = heading.group(1).strip()
                sku, label = None, None
                m = re.match(r"SKU:\s*(\S+)", title)
                if m and not m.group(1).startswith("{"):
                    sku = m.group(1)
                    for table in (self.calls, self.negatives, self.tags, self.subjects):
                        table[sku] = []
                elif title.lower().startswith("conditional"):
                    label = "guard"
                continue
            m = re.match(r"^\s*-\s*\*\*(.+?)\*\*", line)
            if m and sku:
                label = m.group(1).strip().lower()
                continue
            if m and label in ("guard", "not conditional"):
                # The guard section's Not conditional list exempts phrases; it is no guard.
                label = "not conditional" if m.group(1).strip().lower() == \
                    "not conditional" else "guard"
                continue
            quoted = re.findall(r'"([^"]+)"', line)
            ticks = [t.lower() for t in re.findall(r"`([^`]+)`", line)]
            if label == "guard":
                self.guards += [phrase_regex(q, slot) for q in quoted]
            elif sku and label == "call triggers":
                self.calls[sku] += [phrase_regex(q, slot) for q in quoted]
            elif sku and label == "negative-example phrases":
                self.negatives[sku] += [phrase_regex(q, slot) for q in quoted]
            elif sku and label == "ticket triggers" and "tags" in line:
                self.tags[sku] += ticks
            elif sku and label == "ticket triggers" and "subject" in line:
                self.subjects[sku] += ticks

    def call_skus(self, text: str) -> list[str]:
        folded = fold(text)
        return [sku for sku, pats in self.calls.items() if any(p.search(folded) for p in pats)]

    def is_negative(self, sku: str, text: str) -> bool:
        folded = fold(text)
        return any(p.search(folded) for p in self.negatives[sku])

    def is_conditional(self, text: str) -> bool:
        folded = fold(text)
        return bool(CONDITIONAL_MARKERS.search(folded)) or any(
            p.search(folded) for p in self.guards)

    def ticket_skus(self, subject: str, tags: list[str]) -> list[str]:
        tags = [t.lower() for t in tags]
        return [sku for sku in self.tags
                if any(t in tags for t in self.tags[sku])
                or any(s in subject.lower() for s in self.subjects[sku])]


def check_background(taxonomy: Taxonomy, texts: list[str], tickets: list[dict]) -> None:
    """Assert background text and tickets can produce no evidence at all."""
    for text in dict.fromkeys(texts):  # the pools repeat: each distinct text once
        hits = taxonomy.call_skus(text)
        assert not hits, f"background text matches {hits}: {text!r}"
        banned = BACKGROUND_BANNED.search(fold(text))
        assert not banned, f"background text uses {banned.group(0)!r}: {text!r}"
    for t in tickets:
        hits = taxonomy.ticket_skus(t["subject"], t["tags"])
        assert not hits, f"background ticket triggers {hits}: {t['subject']!r}"
        check_background(taxonomy, [t["subject"], t["body_summary"]], [])


def check_plant_line(strict: Taxonomy, loose: Taxonomy, line: dict,
                     not_signal: dict[str, str]) -> None:
    """Assert a planted sentence carries the trigger (and guard) its scenario claims.

    `strict` uses the exact slot width, `loose` a wider one: a planted sentence must
    match strictly, and must not even loosely match what it should not.
    """
    text, sku = line["text"], line["sku"]
    assert re.search(r"[.!?]$", text), f"planted sentence must end a sentence: {text!r}"
    assert len(re.findall(r"[.!?](?=\s)", text)) == 0, f"one sentence only: {text!r}"
    assert sku in strict.call_skus(text), f"{text!r} does not carry a {sku} trigger"
    assert loose.call_skus(text) == [sku], f"{text!r} also matches {loose.call_skus(text)}"
    reason = not_signal.get(sku)
    if reason == "negative-example":
        assert strict.is_negative(sku, text), text
    elif reason == "conditional":
        assert strict.is_conditional(text) and not loose.is_negative(sku, text), text
    else:
        assert not loose.is_conditional(text) and not loose.is_negative(sku, text), text


# --- reference files -----------------------------------------------------------------------


def demo_references(source: Path = REPO_REFERENCES) -> dict[str, bytes]:
    """The team's reference files plus the newly launched ai-assistant SKU (taxonomy only)."""
    files = {name: (source / name).read_bytes()
             for name in (TAXONOMY_FILE, BASELINE_FILE, ACTIONS_FILE)}
    if (source / SEGMENTATION_FILE).is_file():
        files[SEGMENTATION_FILE] = (source / SEGMENTATION_FILE).read_bytes()
    taxonomy = files[TAXONOMY_FILE].decode("utf-8")
    marker = "### SKU: {your_next_sku}"
    assert taxonomy.count(marker) == 1, "taxonomy placeholder section not found"
    files[TAXONOMY_FILE] = taxonomy.replace(marker, NEW_SKU_SECTION + marker).encode("utf-8")
    assert "ai-assistant" not in files[ACTIONS_FILE].decode("utf-8")
    return files


def parse_baselines(text: str) -> dict[str, dict[str, float]]:
    """{segment: {metric: upper edge (median + band)}} from the baseline config."""
    bands: dict[str, dict[str, float]] = {}
    segment = None
    row = re.compile(r"^\|\s*`(?P<metric>[^`]+)`\s*\|\s*(?P<median>[+-]?\d+(?:\.\d+)?)%?\s*\|"
                     r"\s*±\s*(?P<band>\d+(?:\.\d+)?)")
    for line in text.splitlines():
        m = re.match(r"^#+\s*Segment:\s*(\S+)", line)
        if m:
            segment = None if m.group(1).startswith("{") else m.group(1)
            if segment:
                bands[segment] = {}
            continue
        m = row.match(line)
        if m and segment:
            bands[segment][m["metric"]] = float(m["median"]) + float(m["band"])
    return bands


# --- small helpers ---------------------------------------------------------------------------


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def email_of(name: str, domain: str) -> str:
    return ".".join(re.sub(r"[^a-z]", "", p) for p in name.lower().split()) + "@" + domain


def sfdc_id(number: int) -> str:
    """An 18-character Salesforce Account id: '0015e00000' + 5 base62 chars + checksum."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    body = ""
    for _ in range(5):
        number, digit = divmod(number, 62)
        body = alphabet[digit] + body
    id15 = "0015e00000" + body
    suffix = ""
    for chunk in range(3):
        flags = sum(1 << i for i, c in enumerate(id15[chunk * 5:chunk * 5 + 5]) if c.isupper())
        suffix += "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[flags]
    return id15 + suffix


def delta_of(base: float, current: float) -> float:
    return round((current - base) / base * 100.0, 1) if base else 100.0


MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
FEATURES = ["dashboards", "funnels", "the retention view", "notebooks", "session replays",
            "the report builder", "cohorts", "shared boards"]


def merge_turns(turns: list[tuple[str, str, bool]]) -> list[tuple[str, str, bool]]:
    """Join back-to-back background turns of one speaker (planted turns stay on their own)."""
    out: list[tuple[str, str, bool]] = []
    for speaker, text, planted in turns:
        if out and out[-1][0] == speaker and not planted and not out[-1][2]:
            out[-1] = (speaker, out[-1][1] + " " + text, False)
        else:
            out.append((speaker, text, planted))
    return out


class Builder:
    """Accumulates one portfolio; every random choice goes through `self.rng`."""

    def __init__(self, seed: int, baselines: dict[str, dict[str, float]]):
        self.rng = random.Random(seed)
        self.bands = baselines
        self.accounts: list[dict] = []
        self.calls: list[dict] = []
        self.usage: list[dict] = []
        self.tickets: list[dict] = []
        self.changes: list[dict] = []
        self.contacts: dict[str, list[tuple[str, str]]] = {}
        self.meta: dict[str, dict] = {}  # account id -> seats, users, short name, domain
        self.background_texts: list[str] = []
        self.keep_texts = 1_000_000_000  # how many background utterances to keep for checking
        self.background_tickets: list[dict] = []
        self.call_ids: set[str] = set()
        self.ticket_no = 48_000 + self.rng.randrange(500)
        self.form_toggle = 0

    # -- time ----------------------------------------------------------------------------

    def in_window(self, business_hours: bool = True) -> datetime:
        if business_hours:
            day = self.rng.randrange(5)  # Monday 16th .. Friday 20th
            minute = self.rng.randrange(14 * 60, 23 * 60, 15)
        else:
            day = self.rng.randrange(7)
            minute = self.rng.randrange(5, 24 * 60 - 5)
        return WINDOW_START + timedelta(days=day, minutes=minute)

    def last_week(self) -> datetime:
        return LAST_WEEK + timedelta(minutes=self.rng.randrange(14 * 60, 22 * 60, 15))

    # -- accounts ------------------------------------------------------------------------

    def company_names(self, n: int) -> list[tuple[str, str]]:
        """n unique (account name, short name) pairs."""
        combos = [(s, k) for s in COMPANY_STEMS for k in COMPANY_KINDS]
        self.rng.shuffle(combos)
        out, seen = [], set()
        for i in range(n):
            stem, kind = combos[i % len(combos)]
            rounds, extra = divmod(i // len(combos), len(COMPANY_REGIONS))
            short = f"{stem} {kind}{COMPANY_REGIONS[extra]}" + (f" {rounds + 1}" if rounds else "")
            name = short + COMPANY_SUFFIXES[self.rng.randrange(len(COMPANY_SUFFIXES))]
            assert name not in seen, name
            seen.add(name)
            out.append((name, short))
        return out

    def add_account(self, account_id: str, names: tuple[str, str], segment: str,
                    csm: tuple[str, str, bool], arr=None, renewal=None, tier=None) -> dict:
        spec = SEGMENTS[segment]
        lo, hi = spec["arr"]
        if arr is None:
            arr = self.rng.randrange(lo, hi + 1, spec["step"])
        if renewal is None:
            renewal = (AS_OF.date() + timedelta(days=self.rng.randint(62, 600))).isoformat()
        tier = tier or self.rng.choice(spec["tiers"])
        csm_name, _, with_name = csm
        record = {"id": account_id, "name": names[0], "arr": arr, "segment": segment,
                  "tier": tier, "owner_email": email_of(csm_name, LUMEN_DOMAIN)}
        if with_name:
            record["owner_name"] = csm_name
        record["renewal_date"] = renewal
        self.accounts.append(record)
        domain = re.sub(r"[^a-z]", "", names[1].lower()) + ".example"
        n_contacts = self.rng.randint(*spec["contacts"])
        people: list[tuple[str, str]] = []
        while len(people) < n_contacts:
            person = f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"
            if all(person != p for p, _ in people):
                people.append((person, self.rng.choice(CUSTOMER_TITLES)))
        self.contacts[account_id] = people
        self.meta[account_id] = {
            "short": names[1], "domain": domain, "segment": segment, "csm": csm,
            "seats": self.rng.randint(*spec["seats"]), "users": self.rng.randint(*spec["users"]),
            "renewal": renewal,
        }
        return record

    # -- calls ---------------------------------------------------------------------------

    def new_call_id(self) -> str:
        while True:
            call_id = str(self.rng.randrange(10**17, 10**19))
            if call_id not in self.call_ids:
                self.call_ids.add(call_id)
                return call_id

    def cast_for(self, account_id: str, it_speaker: bool) -> dict[str, dict]:
        """Attendees of one call, by role: csm, cust, cust2?, se?"""
        csm_name, csm_title, _ = self.meta[account_id]["csm"]
        cast = {"csm": {"name": csm_name, "title": csm_title,
                        "email": email_of(csm_name, LUMEN_DOMAIN), "is_customer": False}}
        people = self.contacts[account_id]
        k = min(len(people), self.rng.choice((1, 2, 2, 3)))
        chosen = self.rng.sample(people, k)
        domain = self.meta[account_id]["domain"]
        for role, (name, title) in zip(("cust", "cust2", "cust3"), chosen, strict=False):
            if role == "cust" and it_speaker:
                title = self.rng.choice(IT_TITLES)
            cast[role] = {"name": name, "title": title, "email": email_of(name, domain),
                          "is_customer": True}
        if self.rng.random() < 0.25:
            se = self.rng.choice(SOLUTIONS_ENGINEERS)
            cast["se"] = {"name": se, "title": "Solutions Engineer",
                          "email": email_of(se, LUMEN_DOMAIN), "is_customer": False}
        return cast

    def conversation(self, cast: dict, account_id: str, when: datetime, target_words: int,
                     plants: list[dict], long_form: bool) -> list[tuple[str, str, bool]]:
        """(speaker name, text, planted?) turns of one call."""
        meta = self.meta[account_id]
        renewal = date.fromisoformat(meta["renewal"])
        first = {role: a["name"].split()[0] for role, a in cast.items()}
        values = {
            "csm": first["csm"], "cust": first["cust"], "cust2": first.get("cust2", ""),
            "se": first.get("se", ""), "company": meta["short"],
            "feature": self.rng.choice(FEATURES), "users": meta["users"],
            "pct": self.rng.randint(4, 22), "n2": self.rng.randint(20, 240),
            "weekday": WEEKDAYS[when.weekday()],
            "renewal_month": f"{MONTHS[renewal.month - 1]} {renewal.year}",
            "draft_month": MONTHS[(renewal.month - 3) % 12],
        }
        roles = set(cast)

        def usable(pool):
            return [ex for ex in pool if {r for r, _ in ex} <= roles]

        def render(ex, planted=False):
            return [(cast[r]["name"], t.format(**values), planted) for r, t in ex]

        opening = render(self.rng.choice(usable(GREETINGS)))
        opening += render(self.rng.choice(usable(AGENDAS)))
        closing = render(self.rng.choice(usable(CLOSINGS)))
        deck = [ex for pool in MIDDLE.values() for ex in usable(pool)]
        self.rng.shuffle(deck)
        planted = [self.plant_exchange(line, cast) for line in plants]
        middle: list[list] = []
        head = opening + closing + [turn for ex in planted for turn in ex]
        words, turns = sum(len(t.split()) for _, t, _ in head), len(head)
        i = 0
        while words < target_words:
            if i == len(deck):
                if not long_form:
                    break
                self.rng.shuffle(deck)
                i = 0
            ex = render(deck[i])
            i += 1
            ex_words = sum(len(t.split()) for _, t, _ in ex)
            if not long_form and (turns + len(ex) > 38 or words + ex_words > 680):
                continue
            middle.append(ex)
            words += ex_words
            turns += len(ex)
        for ex in planted:
            middle.insert(self.rng.randint(0, len(middle)), ex)
        return merge_turns(opening + [turn for ex in middle for turn in ex] + closing)

    def plant_exchange(self, line: dict, cast: dict) -> list[tuple[str, str, bool]]:
        csm = cast["csm"]["name"]
        if line["role"] == "csm":  # a coach mention: the CSM says it, the customer does not
            return [(csm, line["text"], True),
                    (cast["cust"]["name"], "Good to know. It hasn't come up for us yet, we're "
                                           "still a small group.", False)]
        if line["role"] == "unknown":  # right after the CSM, so a continuation is the CSM's
            return [(csm, "Let me check whether anyone else on your side has questions.", False),
                    (line["name"], line["text"], True),
                    (cast["cust"]["name"], "Sorry, that was Sam from our warehouse, dialing in "
                                           "from the conference room phone.", False)]
        text = line["text"]
        if line["lead"]:
            text = line["lead"] + " " + text
        reply = self.rng.choice(REPLIES[line.get("reply_key") or line["sku"]])
        return [(cast["cust"]["name"], text, True), (csm, reply, False)]

    def add_call(self, account_id: str, when: datetime, *, plants=(), form=None,
                 target_words=None, url_only=False) -> dict:
        plants = list(plants)
        it_speaker = any(p.get("sku") == ENT and p["role"] == "cust" for p in plants)
        cast = self.cast_for(account_id, it_speaker)
        call_id = self.new_call_id()
        call = {"account_id": account_id, "call_id": call_id, "occurred_at": iso(when),
                "title": f"{self.meta[account_id]['short']} <> Lumen | "
                         + self.rng.choice(("Bi-weekly sync", "Monthly check-in",
                                            "Adoption review", "Account review")),
                "attendees": list(cast.values()),
                # The call's page in Gong (metaData.url): the digest links quotes to it.
                "url": f"https://app.gong.io/call?id={call_id}"}
        if url_only:
            call["transcript_url"] = call["url"]
            self.calls.append(call)
            return call
        long_form = target_words is not None
        target = target_words or self.rng.randint(330, 640)
        turns = self.conversation(cast, account_id, when, target, plants, long_form)
        if form is None:
            form = ("transcript", "text")[self.form_toggle % 2]
            self.form_toggle += 1
        if form == "transcript":
            start, utterances = self.rng.randint(2_000, 9_000), []
            for speaker, text, _ in turns:
                utterances.append({"speaker": speaker, "text": text, "start_ms": start})
                start += int(len(text.split()) / 2.6 * 1000) + self.rng.randint(300, 1_500)
            call["transcript"] = utterances
        else:
            lines = []
            for speaker, text, planted in turns:
                if not planted and len(text.split()) > 36 and self.rng.random() < 0.35:
                    cut = text.find(" ", len(text) // 2)
                    text = text[:cut] + "\n" + text[cut + 1:]  # wrapped: a continuation line
                lines.append(f"{speaker}: {text}")
            call["transcript_text"] = "\n".join(lines) + "\n"
        if len(self.background_texts) < self.keep_texts:
            self.background_texts += [t for _, t, planted in turns if not planted]
        self.calls.append(call)
        return call

    # -- usage, tickets, stakeholder changes ---------------------------------------------

    def add_usage(self, account_id: str, spec: tuple, when: datetime) -> dict:
        event_type, metric, feature, base, current, delta, _at, *extra = spec
        if delta == "auto":
            delta = delta_of(base, current)
        event = {"event_id": f"ua_{self.rng.getrandbits(48):012x}", "account_id": account_id,
                 "event_type": event_type, "metric_name": metric, "value_current": current,
                 "value_baseline": base, "delta_pct": delta, "occurred_at": iso(when)}
        if feature:
            event["feature"] = feature
        if extra:
            event["department"] = extra[0]
        self.usage.append(event)
        return event

    def background_usage(self, account_id: str, when: datetime, above_band_ok=False) -> dict:
        """Noise: inside its segment band, or a metric/feature that maps to no SKU."""
        meta = self.meta[account_id]
        band = self.bands[meta["segment"]]
        kind = self.rng.choices(("seat", "api", "dau", "gated"), (3, 3, 3, 1))[0]
        if kind == "gated":
            feature = self.rng.choice(("dark-mode", "custom-branding", "sandbox-workspaces"))
            return self.add_usage(account_id, gated(feature, 0, self.rng.randint(1, 6)), when)
        metric, event_type, base = {
            "seat": ("seat_count", "seat_count_spike", meta["seats"]),
            "api": ("api_calls", "api_call_spike", self.rng.randrange(5_000, 400_000, 100)),
            "dau": ("daily_active_users", "dau_spike", max(3, meta["users"] // 2)),
        }[kind]
        upper = band[metric]
        for _ in range(50):
            if kind == "dau" and above_band_ok and self.rng.random() < 0.3:
                target = upper * self.rng.uniform(1.1, 1.8)  # dau_spike maps to no SKU
            else:
                target = upper * self.rng.uniform(0.35, 0.95)
            current = round(base * (1 + target / 100))
            delta = delta_of(base, current)
            if delta > 0 and (kind == "dau" or delta < upper):
                break
        else:
            current, delta = base, 0.0
        assert kind == "dau" or delta <= upper, (account_id, metric, delta)
        spec = (event_type, metric, None, base, current, delta, None)
        return self.add_usage(account_id, spec, when)

    def add_ticket(self, account_id: str, subject: str, body: str, tags: list[str],
                   when: datetime) -> dict:
        self.ticket_no += self.rng.randint(3, 40)
        ticket = {"ticket_id": str(self.ticket_no), "account_id": account_id,
                  "subject": subject, "body_summary": body, "tags": list(tags),
                  "opened_at": iso(when)}
        self.tickets.append(ticket)
        return ticket

    def background_ticket(self, account_id: str, when: datetime) -> dict:
        subject, body, tags = self.rng.choice(TICKET_TOPICS)
        ticket = self.add_ticket(account_id, subject, body, tags, when)
        self.background_tickets.append(ticket)
        return ticket

    def add_change(self, account_id, change_type, role, is_champion, when: datetime) -> dict:
        change = {"account_id": account_id, "change_type": change_type, "role": role,
                  "is_champion": is_champion, "occurred_at": iso(when)}
        self.changes.append(change)
        return change

    def background_changes(self, account_ids: list[str], n: int) -> None:
        """Org-chart churn that touches no signal: hires, promotions, old departures."""
        for i, account_id in enumerate(self.rng.sample(account_ids, n)):
            kind = ("new_hire", "promotion", "departure")[i % 3]
            days_back = self.rng.randint(2, 80)
            champion = kind != "departure" and self.rng.random() < 0.3
            if kind == "departure" and i % 2:
                champion, days_back = True, self.rng.randint(35, 90)  # before the look-back
            when = AS_OF - timedelta(days=days_back, minutes=self.rng.randrange(600, 1_200))
            self.add_change(account_id, kind, self.rng.choice(CHANGE_ROLES), champion, when)

    # -- output ----------------------------------------------------------------------------

    def files(self) -> dict[str, list]:
        def by_time(records, stamp, key):
            return sorted(records, key=lambda r: (r[stamp], r[key]))

        return {
            "accounts": self.accounts,
            "calls": by_time(self.calls, "occurred_at", "call_id"),
            "usage_events": by_time(self.usage, "occurred_at", "event_id"),
            "support_tickets": by_time(self.tickets, "opened_at", "ticket_id"),
            "stakeholder_changes": by_time(self.changes, "occurred_at", "account_id"),
        }


# --- the demo week -----------------------------------------------------------------------------


def plant_time(b: Builder, at: str | None) -> datetime:
    return parse_iso(at) if at else b.in_window(business_hours=False)


def build_demo(seed: int = DEMO_SEED, references: dict[str, bytes] | None = None
               ) -> tuple[dict[str, list], dict, dict[str, bytes]]:
    """The demo portfolio, its expected outcome and its reference files."""
    _, _, files, expected, references = demo_week(seed, references)
    return files, expected, references


def demo_week(seed: int = DEMO_SEED, references: dict[str, bytes] | None = None
              ) -> tuple[Builder, dict[str, str], dict[str, list], dict, dict[str, bytes]]:
    """The demo week's builder (accounts, contacts, what it drew), {plant key: account
    id}, its files, expected outcome and reference files. `references`: the demo's own
    reference files (default: the repository's, plus the ai-assistant SKU); they only
    check the text and set the bands, so they never change what is drawn."""
    references = references or demo_references()
    taxonomy = Taxonomy(references[TAXONOMY_FILE].decode("utf-8"))
    strict = Taxonomy(references[TAXONOMY_FILE].decode("utf-8"), STRICT_SLOT)
    b = Builder(seed, parse_baselines(references[BASELINE_FILE].decode("utf-8")))
    plant_ids = place_accounts(b)
    not_signal_calls = plant_scenarios(b, plant_ids, strict, taxonomy)
    background = [a["id"] for a in b.accounts if a["id"] not in plant_ids.values()]
    role_of = add_background(b, background, plant_ids)
    add_outside_window(b, background, role_of)
    check_background(taxonomy, b.background_texts + LEAD_INS + [a["name"] for a in b.accounts]
                     + [c["title"] for c in b.calls], b.background_tickets)
    files = b.files()
    check_demo_shape(files)
    files["health"] = demo_health(files["accounts"], plant_ids, seed)
    expected = expected_outcome(b, plant_ids, not_signal_calls, role_of)
    return b, plant_ids, files, expected, references


# Accounts whose strong seat signal is backed by a nearly full licence (seat utilisation
# is an expansion-potential factor of esd segment) and one whose health is deliberately
# poor, so the segmentation report shows every band.
FULL_SEATS = ("S01", "S04", "S11")
STRUGGLING = ("S13", "S17")


def demo_health(accounts: list[dict], plant_ids: dict[str, str], seed: int) -> list[dict]:
    """health.json (contract §9): one record per account, with the gaps real exports
    have. A separate random stream, so adding it moved nothing else in the demo."""
    rng = random.Random(seed * 7919 + 17)
    full = {plant_ids[k] for k in FULL_SEATS}
    poor = {plant_ids[k] for k in STRUGGLING}
    records = []
    for i, acc in enumerate(accounts):
        if i % 37 == 5 and acc["id"] not in full | poor:
            continue  # no health data at all: band "unknown"
        low, high = SEGMENTS[acc["segment"]]["seats"]
        licensed = rng.randrange(low, high + 1)
        vigour = rng.betavariate(4, 2) if acc["id"] not in poor else rng.uniform(0.05, 0.25)
        record = {
            "account_id": acc["id"],
            "dau_mau": round(min(0.9, 0.05 + 0.55 * vigour + rng.uniform(-0.05, 0.05)), 2),
            "feature_adoption": round(min(1.0, max(0.05, vigour + rng.uniform(-0.2, 0.1))), 2),
            "csat": round(min(5.0, max(1.0, 2.5 + 2.5 * vigour + rng.uniform(-0.4, 0.3))), 1),
            "open_escalations": rng.choice((0, 0, 0, 0, 1, 1, 2)) if vigour < 0.6 else 0,
            "exec_access": rng.random() < (0.8 if acc["segment"] == "enterprise" else 0.35),
            "champion_active": rng.random() < 0.85,
            "nps": rng.choice((-40, -20, 0, 10, 20, 30, 40, 50, 60, 70)) if vigour > 0.3
            else rng.choice((-60, -40, -20, 0)),
            "seats_licensed": licensed,
            "seats_used": round(licensed * (rng.uniform(0.82, 0.97) if acc["id"] in full
                                            else rng.uniform(0.3, 0.78))),
        }
        # Real exports have holes: NPS from a survey not everyone answered, and so on.
        for key, share in (("nps", 0.3), ("csat", 0.1), ("exec_access", 0.15),
                           ("feature_adoption", 0.08)):
            if rng.random() < share:
                del record[key]
        records.append(record)
    return records


def place_accounts(b: Builder) -> dict[str, str]:
    """Create all accounts (planted ones at random places in the file); {plant key: id}."""
    csm_by_name = {c[0]: c for c in CSMS}
    total = sum(spec["count"] for spec in SEGMENTS.values())
    ids = [sfdc_id(n) for n in b.rng.sample(range(62**4, 62**5), total)]
    names = b.company_names(total)
    slots = list(range(total))
    b.rng.shuffle(slots)
    per_segment = {seg: spec["count"] for seg, spec in SEGMENTS.items()}
    for plant in PLANTS:
        per_segment[plant["segment"]] -= 1
    background = [seg for seg, n in per_segment.items() for _ in range(n)]
    records = sorted([(slots[i], plant, plant["segment"]) for i, plant in enumerate(PLANTS)]
                     + [(slots[len(PLANTS) + j], None, seg) for j, seg in enumerate(background)],
                     key=lambda r: r[0])
    # Background accounts go to whichever CSM has the smallest book so far.
    load = {c[0]: 0 for c in CSMS}
    for plant in PLANTS:
        load[plant["owner"]] += 1
    plant_ids: dict[str, str] = {}
    for slot, plant, segment in records:
        if plant:
            acc = b.add_account(ids[slot], names[slot], segment, csm_by_name[plant["owner"]],
                                plant.get("arr"), plant.get("renewal"), plant.get("tier"))
            plant_ids[plant["key"]] = acc["id"]
        else:
            csm = min(CSMS, key=lambda c: (load[c[0]], b.rng.random()))
            load[csm[0]] += 1
            b.add_account(ids[slot], names[slot], segment, csm)
    # The S02/S03 tie must be decided by renewal date, not by the account id after it.
    account = {a["id"]: a for a in b.accounts}
    s02, s03 = account[plant_ids["S02"]], account[plant_ids["S03"]]
    if s02["id"] < s03["id"]:
        swap_ids(b, s02, s03, plant_ids)
    return plant_ids


def plant_scenarios(b: Builder, plant_ids: dict[str, str], strict: Taxonomy,
                    loose: Taxonomy) -> list[tuple[str, str, str, str]]:
    """Write every plant's records; the (account, sku, call id, reason) of its not_signals."""
    not_signal_calls = []
    for plant in PLANTS:
        aid = plant_ids[plant["key"]]
        reasons = dict(plant.get("not_signal", ()))
        for line in plant.get("says", ()):
            check_plant_line(strict, loose, line, reasons)
        for spec in plant.get("usage", ()):
            b.add_usage(aid, spec, plant_time(b, spec[6]))
        for subject, body, tags, at in plant.get("tickets", ()):
            b.add_ticket(aid, subject, body, tags, plant_time(b, at))
        for change_type, role, champion, at in plant.get("changes", ()):
            b.add_change(aid, change_type, role, champion, parse_iso(at))
        departed = any(kind == "departure" and champion
                       and LOOKBACK_START <= parse_iso(at) < AS_OF
                       for kind, _, champion, at in plant.get("changes", ()))
        assert departed == ("champion-departure" in plant["expect"].values()), plant["key"]
        mode = plant.get("calls", "in")
        if mode == "none":
            continue
        says = [dict(line, reply_key="not_signal" if line["sku"] in reasons else line["sku"])
                for line in plant.get("says", ())]
        when = {"last_week": b.last_week(), "as_of": AS_OF}.get(mode) or b.in_window()
        groups = [[line] for line in says] if mode == "split" else [says]
        forms = ["transcript", "text"] if mode == "split" else [plant.get("form")]
        for k, (group, form) in enumerate(zip(groups, forms, strict=True)):
            call = b.add_call(aid, when if k == 0 else b.in_window(), plants=group, form=form)
            for sku, reason in plant.get("not_signal", ()):
                if any(line["sku"] == sku for line in group):
                    not_signal_calls.append((aid, sku, call["call_id"], reason))
    return not_signal_calls


def add_background(b: Builder, background: list[str], plant_ids: dict[str, str]) -> dict:
    """Background accounts are silent, active without a call, or have one or two calls."""
    roles = (["silent"] * DEMO_SILENT_BACKGROUND + ["no_call"] * DEMO_NO_CALL_BACKGROUND
             + ["call"] * (len(background) - DEMO_SILENT_BACKGROUND - DEMO_NO_CALL_BACKGROUND))
    b.rng.shuffle(roles)
    role_of = dict(zip(background, roles, strict=True))
    url_only_left = URL_ONLY_CALLS
    for aid in background:
        role = role_of[aid]
        if role == "call":
            n_calls = 2 if b.rng.random() < TWO_CALL_SHARE else 1
            for _ in range(n_calls):
                url_only = url_only_left > 0 and n_calls == 1 and b.rng.random() < 0.05
                url_only_left -= url_only
                b.add_call(aid, b.in_window(), url_only=url_only)
        if role == "silent":
            continue
        for _ in range(b.rng.choice((0, 1, 1, 2, 3))):
            b.background_usage(aid, b.in_window(False), above_band_ok=True)
        if b.rng.random() < 0.3 or (role == "no_call" and b.rng.random() < 0.5):
            b.background_ticket(aid, b.in_window(False))
        if role == "no_call" and not any(e["account_id"] == aid for e in b.usage) \
                and not any(t["account_id"] == aid for t in b.tickets):
            b.background_usage(aid, b.in_window(False))
    # A little noise on planted accounts too: in-band usage cannot change their outcome.
    for plant in PLANTS:
        if not plant.get("silent") and b.rng.random() < 0.3:
            b.background_usage(plant_ids[plant["key"]], b.in_window(False))
    # Exactly on the smb seat_count edge (5 + 25 = 30.0): not above it, so not counted.
    edge_smb = next(a for a in background
                    if role_of[a] == "call" and b.meta[a]["segment"] == "smb")
    b.add_usage(edge_smb, seats(40, 52), b.in_window(False))
    assert b.usage[-1]["delta_pct"] == b.bands["smb"]["seat_count"]
    b.background_changes(background, 24)
    # A champion left a quiet background account inside the look-back: nothing to suppress.
    quiet = next(a for a in background if role_of[a] == "no_call")
    b.add_change(quiet, "departure", "Head of Data", True, parse_iso("2026-11-09T16:00:00Z"))
    return role_of


def add_outside_window(b: Builder, background: list[str], role_of: dict) -> None:
    """Last week's records and records at exactly as_of: a correct run ignores them all."""
    silent = [a for a in background if role_of[a] == "silent"]
    with_calls = [a for a in background if role_of[a] == "call"]
    for aid in silent[:4] + with_calls[:6]:
        b.add_call(aid, b.last_week())
    b.add_usage(silent[0], gated("sso", 0, 3), b.last_week())
    b.add_usage(silent[0], seats(b.meta[silent[0]]["seats"], b.meta[silent[0]]["seats"] * 2),
                AS_OF)
    for aid in b.rng.sample(background, 12):
        b.background_usage(aid, b.last_week(), above_band_ok=True)
    for aid in b.rng.sample(background, 4):
        b.background_ticket(aid, b.last_week())


def swap_ids(b: Builder, one: dict, other: dict, plant_ids: dict[str, str]) -> None:
    """Exchange two accounts' ids (only before any record refers to them)."""
    a, c = one["id"], other["id"]
    one["id"], other["id"] = c, a
    b.contacts[a], b.contacts[c] = b.contacts[c], b.contacts[a]
    b.meta[a], b.meta[c] = b.meta[c], b.meta[a]
    for key, value in plant_ids.items():
        plant_ids[key] = c if value == a else a if value == c else value


def expected_outcome(b: Builder, plant_ids: dict[str, str], not_signal_calls, role_of) -> dict:
    """What a correct run yields, read off the scenario table."""
    account = {a["id"]: a for a in b.accounts}
    strong: dict[str, list] = {email_of(c[0], LUMEN_DOMAIN): [] for c in CSMS}
    weak: dict[str, list] = {email: [] for email in strong}
    for plant in PLANTS:
        aid = plant_ids[plant["key"]]
        owner = account[aid]["owner_email"]
        for sku, outcome in plant["expect"].items():
            if outcome == "strong":
                strong[owner].append((aid, sku))
            else:
                weak[owner].append([aid, sku, outcome])

    def rank(signal):
        acc = account[signal[0]]
        return (-acc["arr"], acc["renewal_date"], acc["id"], signal[1])

    digests, shown = {}, []
    for email in strong:
        ranked = sorted(strong[email], key=rank)
        digests[email] = {"strong": [list(s) for s in ranked[:CAP_PER_CSM]],
                          "overflow": max(0, len(ranked) - CAP_PER_CSM),
                          "weak": sorted(weak[email])}
        shown += ranked[:CAP_PER_CSM]
    silent = sorted([plant_ids[p["key"]] for p in PLANTS if p.get("silent")]
                    + [a for a, r in role_of.items() if r == "silent"])
    with_call = {c["account_id"] for c in b.calls
                 if WINDOW_START <= parse_iso(c["occurred_at"]) < AS_OF}
    return {
        "as_of": iso(AS_OF),
        "window_days": WINDOW_DAYS,
        "accounts_in_scope": len(b.accounts),
        "coverage_pct": round(100.0 * len(with_call) / len(b.accounts), 1),
        "champion_suppressions": sum(o == "champion-departure" for p in PLANTS
                                     for o in p["expect"].values()),
        "silent": silent,
        "digests": digests,
        "not_signal": sorted([list(n) for n in not_signal_calls]),
        "needs_human_review": sorted([list(s) for s in shown if s[1] in SKUS_WITHOUT_ACTIONS]),
        # Not part of a run's output: which planted scenario sits on which account, and why.
        "scenarios": [[p["key"], plant_ids[p["key"]], account[plant_ids[p["key"]]]["owner_email"],
                       p.get("why", "")] for p in PLANTS],
    }


def check_demo_shape(files: dict[str, list]) -> None:
    """The demo week looks like the brief says it should."""
    counts = {}
    for acc in files["accounts"]:
        counts[acc["segment"]] = counts.get(acc["segment"], 0) + 1
    assert counts == {s: spec["count"] for s, spec in SEGMENTS.items()}, counts
    assert len({a["id"] for a in files["accounts"]}) == len(files["accounts"])
    assert len({a["name"] for a in files["accounts"]}) == len(files["accounts"])
    for call in files["calls"]:
        if "transcript" in call:
            text = " ".join(u["text"] for u in call["transcript"])
            n_turns = len(call["transcript"])
        elif "transcript_text" in call:
            text = call["transcript_text"]
            names = [a["name"] for a in call["attendees"]] + ["Sam Patel"]
            n_turns = sum(1 for line in text.splitlines()
                          if any(line.startswith(n + ": ") for n in names))
        else:
            continue
        n_words = len(text.split())
        assert 300 <= n_words <= 700 and 15 <= n_turns <= 40, (call["call_id"], n_words, n_turns)
    url_only = sum(1 for c in files["calls"] if "transcript_url" in c)
    assert 2 <= url_only <= URL_ONLY_CALLS, url_only
    owners = {}
    for acc in files["accounts"]:
        owners.setdefault(acc["owner_email"], set()).add(acc.get("owner_name"))
    assert all(len(names) == 1 for names in owners.values()), owners


# --- large background portfolios (benchmarks) --------------------------------------------------


def build_portfolio(n_accounts: int, *, seed: int = 7,
                    transcript_words: int | None = None) -> dict[str, list]:
    """A background portfolio of `n_accounts`, one call per account in the demo week.

    Transcripts alternate between `transcript` and `transcript_text`; with
    `transcript_words` each is about that long (e.g. 4500), otherwise 300-700 words.
    One account in 40 carries a planted signal (see SPRINKLES); everything else is noise
    that yields no evidence. Returns the five input files as lists of records.
    """
    references = demo_references()
    taxonomy = Taxonomy(references[TAXONOMY_FILE].decode("utf-8"))
    b = Builder(seed, parse_baselines(references[BASELINE_FILE].decode("utf-8")))
    # Checking every word of a 10k x 4500-word portfolio would dominate the run time;
    # the texts come from the same pools, so a sample proves the point.
    b.keep_texts = 20_000
    csms = list(CSMS)
    n_csms = max(len(CSMS), round(n_accounts / 36))
    taken = {c[0] for c in csms}
    while len(csms) < n_csms:
        name = f"{b.rng.choice(FIRST_NAMES)} {b.rng.choice(LAST_NAMES)}"
        if name not in taken:
            taken.add(name)
            csms.append((name, "Customer Success Manager", len(csms) % 2 == 0))
    n_ent, n_mm = round(n_accounts * 0.14), round(n_accounts * 0.33)
    segments = (["enterprise"] * n_ent + ["mid-market"] * n_mm
                + ["smb"] * (n_accounts - n_ent - n_mm))
    b.rng.shuffle(segments)
    numbers = b.rng.sample(range(62**4, 62**5), n_accounts)
    names = b.company_names(n_accounts)
    for i, segment in enumerate(segments):
        b.add_account(sfdc_id(numbers[i]), names[i], segment, csms[i % len(csms)])
    for i, acc in enumerate(b.accounts):
        aid = acc["id"]
        sprinkle = SPRINKLES[(i // 40) % len(SPRINKLES)] if i % 40 == 3 else {}
        b.add_call(aid, b.in_window(), plants=sprinkle.get("says", ()),
                   form=("transcript", "text")[i % 2], target_words=transcript_words)
        for spec in sprinkle.get("usage", ()):
            b.add_usage(aid, spec, b.in_window(False))
        for _ in range(b.rng.choice((0, 1, 1, 2))):
            b.background_usage(aid, b.in_window(False))
        if b.rng.random() < 0.3:
            b.background_ticket(aid, b.in_window(False))
    b.background_changes([a["id"] for a in b.accounts], max(1, n_accounts // 10))
    check_background(taxonomy, b.background_texts, b.background_tickets)
    return b.files()


# --- writing -------------------------------------------------------------------------------------


def dump(obj) -> str:
    return json.dumps(obj, indent=1, ensure_ascii=False) + "\n"


def write_demo(out: Path, seed: int = DEMO_SEED) -> dict:
    files, expected, references = build_demo(seed)
    out.mkdir(parents=True, exist_ok=True)
    for name, records in files.items():
        (out / f"{name}.json").write_text(dump(records), encoding="utf-8")
    (out / "expected.json").write_text(dump(expected), encoding="utf-8")
    ref_dir = out / "references"
    ref_dir.mkdir(exist_ok=True)
    for name, data in references.items():
        (ref_dir / name).write_bytes(data)
    return expected


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "portfolio",
                        help="folder for the input files, references/ and expected.json")
    parser.add_argument("--current-week-only", action="store_true",
                        help="leave out the eight past weeks of tools/make_past_weeks.py")
    args = parser.parse_args(argv)
    expected = write_demo(args.out)
    strong = sum(len(d["strong"]) + d["overflow"] for d in expected["digests"].values())
    print(f"wrote {args.out}: {expected['accounts_in_scope']} accounts, "
          f"coverage {expected['coverage_pct']}%, {strong} strong signals planted")
    if not args.current_week_only:  # the committed demo has them: esd backtest, esd report
        sys.path.insert(0, str(HERE / "tools"))
        from make_past_weeks import main as add_past_weeks

        add_past_weeks(["--out", str(args.out), "--references", str(args.out / "references")])


if __name__ == "__main__":
    main()
