"""An "ordinary talk" week for bench_tokens.py: 200 accounts, one ~6,000-token call
each, mostly product small talk that shares words with expansion language (onboarding,
rollouts, purchase orders, exports, users, teams, logins, the API, audits, pricing)
without being intent, and a sprinkling of real signals: about one call in six carries
one or two, in the customer's own words, and one in ten a near-miss a careless reader
would take for one (a conditional, a downgrade, a tool already owned elsewhere).

Accounts, usage, tickets and stakeholder changes come from the demo generator
(`build_portfolio`); only the call transcripts are replaced. Deterministic for a seed.
`SIGNALS` and `NEAR_MISSES` are the ground truth the benchmark's oracle answers from.
None of these sentences is in tests/data/holdout_v2.json.

`dense=True` (bench_pipeline.py, issue 16) writes every other call as
`transcript_text` and mixes in `DENSE`: small talk in which the
words a team's trigger phrases are built from (team, users, export, integration,
dashboard) stand in nearly every sentence, so a third of all customer utterances hold a
trigger's rarest word. `DENSE_TRIGGER` is such a phrase; the benchmark adds it to a copy
of the reference taxonomy. None of `DENSE` says it whole; one call in ten does, once
(`DENSE_SAID`).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator

from generate_portfolio import build_portfolio

TEAMS = ["finance", "support", "the warehouse team", "ops", "marketing", "the data team",
         "customer care", "sales", "IT", "the product group", "HR", "legal"]
FEATURES = ["the export", "the dashboard", "the mobile app", "the CSV import",
            "the reporting page", "the calendar sync", "the search", "the API",
            "notifications", "the admin console", "the Salesforce sync", "saved views"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "September",
          "October", "November"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
TOOLS = ["Jira", "Excel", "Tableau", "Zendesk", "HubSpot", "Google Sheets", "Slack"]

CUSTOMER = [
    "Onboarding for the last group went fine, people picked it up quickly.",
    "The rollout of {feature} to {team} finished on {day}.",
    "Finance sent the purchase order for the renewal last week, so that should be in "
    "your system.",
    "{feature} times out when we pull more than a year of data.",
    "We had to re-run the export twice on {day} because the file was empty.",
    "Our users mostly live in {feature} these days.",
    "The login page was slow for a few people this morning.",
    "{team} asked whether {feature} can show totals per week instead of per day.",
    "We finished the quarterly audit and nothing came up about your tool.",
    "Honestly the new permissions screen is a lot clearer than the old one.",
    "I think the team is still getting used to {feature}.",
    "We moved {team} to a different floor, so things were chaotic for a bit.",
    "The API returned a few 500s overnight but the retries picked them up.",
    "Our security team read the release notes and had no questions.",
    "Can you remind me where the user list lives in the admin console?",
    "We rolled out the new naming convention for projects across {team}.",
    "The pricing page on your site still shows the old logo, by the way.",
    "A couple of people in {team} forgot their passwords after the holiday.",
    "The new hire in {team} went through the training videos and liked them.",
    "We use {tool} next to it for the stuff that isn't in your product.",
    "{feature} is working well since the last release.",
    "The workflow we set up for approvals is the same as before, no changes there.",
    "I pulled the usage report for our leadership meeting and it looked healthy.",
    "Our growth this year has mostly come from existing customers, which is nice.",
    "We have a team offsite in {month}, so I might be slow to reply that week.",
    "The invoice had the wrong purchase order number on it, can someone reissue it?",
    "Onboarding the {n} people from last month took about a day with your checklist.",
    "People keep asking if {feature} will get a dark mode.",
    "We're still using the same three dashboards we built at kickoff.",
    "The analytics tab loads slowly on {day} mornings when everyone opens it.",
    "We re-organized the folders so each team finds their own projects faster.",
    "Somebody on {team} exported the whole board to {tool} to share it with a vendor.",
    "The rollout plan on our side slipped a week because of the holidays.",
    "We'd like the training session recorded so new people can watch it later.",
    "The automation rules we built in the spring still run every night without trouble.",
    "Our IT folks updated the browser and the rendering bug went away.",
    "Last quarter we cleaned up old accounts of people who left.",
    "The limit on attachment size tripped us once, but we just zipped the file.",
    "I'll forward you the thread with {team} about {feature}.",
    "We talked about it internally and the current setup covers what we need.",
    "It's been a busy month, we closed the books on {day} and everyone is tired.",
    "We had {n} people in the last office hours session, which is a record for us.",
    "Our admin changed, so Priya from {team} is the person to email now.",
    "The sandbox refresh worked, thanks for pushing that through.",
    "We noticed the weekly digest email goes out at three in the morning our time.",
    "Nothing urgent from us, honestly, things are steady.",
    "The mobile app crashed once on an older Android phone, but we couldn't reproduce it.",
    "Support answered our ticket about {feature} within the hour, which was great.",
    "We'd love a cheat sheet for the keyboard shortcuts, people keep asking.",
    "Our fiscal year starts in {month}, so budgets get set around then.",
]
CSM = [
    "That's great to hear, thanks for sharing.",
    "Let me check with the product team on {feature} and get back to you by {day}.",
    "I'll send over the recording and the slides after this call.",
    "Good to know. Is there anything blocking {team} right now?",
    "We shipped a fix for {feature} last week, so it should be faster now.",
    "I can set up a refresher session for {team} if that helps.",
    "Let me look up that invoice and have billing reissue it.",
    "Makes sense. How is the adoption looking on your side?",
    "I'll add that to the feature request we already have open.",
    "Perfect, I'll note the new admin contact in our system.",
]
SIGNALS = [
    "We're taking on the whole claims department next month, another forty people who "
    "will need to be in the system.",
    "Can you send a quote for bringing our Lisbon office onto the account?",
    "The new engineering pod starts in {month} and every one of them needs a login.",
    "Procurement asked me to get pricing for a company-wide agreement.",
    "Our CISO says we have to put this behind Entra ID before the audit, so we need "
    "single sign-on turned on.",
    "We need a signed BAA before we can load any patient records.",
    "Our API jobs are getting throttled every night, so we want the higher call "
    "allowance.",
    "We want the approval routing to run by itself, so let's add the automation "
    "package.",
    "Leadership wants cohort and retention charts, so we'd like the advanced reporting "
    "add-on.",
    "We're moving the rest of the sales org over from {tool} in {month}, about sixty "
    "reps.",
    "We need user provisioning from Workday so IT stops creating accounts by hand.",
    "Let's get the paperwork going for the top plan, legal wants the audit trail.",
    "We're hiring about twenty agents for peak season and they'll all work in here.",
    "The research group has been sharing one account, so let's give each of them a "
    "proper seat.",
    "Our bank's examiners need a log of every permission change, so we have to upgrade.",
    "We'd like to turn on the forecasting module for the planning team this quarter.",
]
# Common words everywhere, "export" in a third of them.
DENSE = [
    "The team wants the export for {tool} to run before nine.",
    "The {team} team opens the dashboard first thing and the users seem happy with it.",
    "Our users on the {team} team rely on the integration with {tool} every day.",
    "The export from the dashboard is what the team sends to leadership.",
    "The integration kept the users in sync after the team moved to the new dashboard.",
    "Most of our users only ever touch the dashboard and the weekly export.",
    "The {team} team rebuilt their dashboard so the users see the same numbers.",
    "We checked the integration logs with the team and the sync had finished on time.",
    "The users asked the team for a dashboard per region, nothing fancy.",
    "The report the team gets has the same columns as the dashboard.",
    "Our integration with {tool} is stable and the users stopped complaining.",
    "The team exported the dashboard as a PDF for the users who do not log in.",
    "Half the team uses the integration and the other half prefers the export.",
    "The dashboard filters confused a few users, so the team wrote a short guide.",
    "Whenever the sync is late the team hears about it from the users.",
    "The {team} team linked the dashboard in their wiki for new users.",
]
DENSE_TRIGGER = "export to {destination}"
DENSE_SAID = "Can the export to {tool} run every hour instead of every night?"
NEAR_MISSES = [
    "We already have single sign-on through Okta, so that part is covered.",
    "If the analytics add-on were cheaper we might take a look, but not this year.",
    "We're trying to figure out who actually uses this before the renewal.",
    "The top plan is too expensive for us, we might drop down a tier.",
]


def ordinary_week(n_accounts: int = 200, seed: int = 11, words: int = 4500,
                  dense: bool = False) -> dict[str, list]:
    """The five input files, with every call replaced by ordinary talk of ~`words`."""
    files = build_portfolio(n_accounts, seed=seed)
    for _ in ordinary_calls(files["calls"], seed, words, dense):
        pass
    return files


def ordinary_calls(calls: list[dict], seed: int = 11, words: int = 4500,
                   dense: bool = False) -> Iterator[dict]:
    """Each call of `calls` with its transcript replaced by ordinary talk, in order and
    in place, one at a time (a writer can drop each transcript once written)."""
    rng = random.Random(seed)
    pool = CUSTOMER + DENSE if dense else CUSTOMER
    for i, call in enumerate(calls):
        _replace(call, rng, words, pool, dense)
        if dense and i % 2:  # every other call as `Name: words` lines, as exports write
            call["transcript_text"] = "".join(f"{u['speaker']}: {u['text']}\n"
                                              for u in call.pop("transcript"))
        yield call


def _replace(call: dict, rng: random.Random, words: int, pool: list[str],
             dense: bool) -> None:
    people = call["attendees"]
    customers = [a["name"] for a in people if a["is_customer"]]
    vendor = next(a["name"] for a in people if not a["is_customer"])
    plants = []
    if rng.random() < 1 / 6:
        plants += rng.sample(SIGNALS, rng.choice((1, 1, 2)))
    if rng.random() < 0.1:
        plants.append(rng.choice(NEAR_MISSES))
    if dense and rng.random() < 0.1:
        plants.append(DENSE_SAID)
    turns, count = [], 0
    while count < words:
        said = " ".join(_fill(rng.choice(pool), rng) for _ in range(rng.randint(2, 5)))
        turns.append((rng.choice(customers), said))
        turns.append((vendor, " ".join(_fill(rng.choice(CSM), rng)
                                       for _ in range(rng.randint(1, 3)))))
        count += len(said.split()) + len(turns[-1][1].split())
    for text in plants:  # inside a customer turn, between ordinary sentences
        at = rng.randrange(0, len(turns), 2)
        turns[at] = (turns[at][0], f"{turns[at][1]} {_fill(text, rng)}")
    call.pop("transcript_text", None)
    call["transcript"] = [{"speaker": s, "text": t, "start_ms": 4000 + 9000 * i}
                          for i, (s, t) in enumerate(turns)]


def patterns(texts: list[str]) -> list[re.Pattern[str]]:
    """Each template as a pattern that matches it with any slot filled."""
    return [re.compile(r"\s*".join(
        ".+?" if part.startswith("{") else re.escape(part)
        for part in re.split(r"(\{\w+\})", t) if part), re.IGNORECASE) for t in texts]


def _fill(template: str, rng: random.Random) -> str:
    text = template.format(feature=rng.choice(FEATURES), team=rng.choice(TEAMS),
                           day=rng.choice(DAYS), month=rng.choice(MONTHS),
                           tool=rng.choice(TOOLS), n=rng.randint(6, 40))
    return text[0].upper() + text[1:]
