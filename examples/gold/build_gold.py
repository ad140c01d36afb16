"""Build the labeled gold set that `esd eval --gold examples/gold` scores extractors on.

Lumen (a fictional product-analytics vendor) and sixteen of its customers: 24 CSM calls
and 14 support tickets, written out below as readable tables. Every call is a list of
utterances; every utterance is a list of sentences. A plain string is ordinary chatter
(greetings, bugs, scheduling); `S(...)` is a sentence labeled `signal` for a SKU and
`N(...)` one labeled `not_signal`, each with its `kind`:

- `literal`: a call-trigger phrase of the taxonomy, said by a customer;
- `paraphrase`: the same intent in the customer's own words, no trigger phrase in it
  (and none of the conditional markers "if", "would", "considering", "thinking about");
- `conditional`: a hypothetical or feature-gap report ("we'd consider ... if ...");
- `negative`: a negative example of the taxonomy or a paraphrase of one;
- `coach`: trigger-like words said by a Lumen attendee (never customer evidence);
- `near_miss`: shares words with a trigger but is not expansion (a bug, an audit of
  their own, an expired invite), labeled with the SKU it superficially resembles;
- `ticket`: any labeled sentence of a support ticket (subject or body), either label;
- `negated`: a trigger the customer denies: a negated ask ("SAML isn't something we
  need"), a feature they removed, a question they answer "no", a request already done;
- `polite`: a real ask worded politely with "if" or "would" ("we'd love to add ...",
  "would you send ...", "if I'm honest, ...");
- `split`: a sentence holding an abbreviation, a title or an ellipsis ("If Dr. Brooks
  approves ...", "If the pilot goes well... we need ..."), where a wrong sentence split
  would cut a condition off its consequence.

A `not_signal` label may name the guard `reason` that should catch it
(`negative-example`, `negated`, `conditional`): `esd eval` scores each reason on them.

The labels are exhaustive: a sentence left unlabeled is one nobody should flag, so an
extractor's prediction on it counts as a false positive.

Deterministic: no clock, no randomness; two runs write identical bytes, and
tests/test_eval.py checks the committed files match.

    python examples/gold/build_gold.py [--out examples/gold]
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent

ENT, SEATS, PREM = "enterprise-tier", "additional-team-seats", "premium-feature-pack"
KINDS = ("literal", "paraphrase", "conditional", "negative", "coach", "near_miss", "ticket",
         "negated", "polite", "split")
# The guard reason a not_signal label of each kind expects (others: pass reason=).
REASONS = {"conditional": "conditional", "negative": "negative-example", "negated": "negated"}


@dataclass(frozen=True)
class Sentence:
    text: str
    labels: tuple[tuple[str, str, str, str | None], ...]  # (label, sku, kind, reason)


def S(text: str, sku: str, kind: str) -> Sentence:
    return Sentence(text, (("signal", sku, kind, None),))


def N(text: str, sku: str, kind: str, reason: str | None = None) -> Sentence:
    return Sentence(text, (("not_signal", sku, kind, reason or REASONS.get(kind)),))


# A line break inside a `transcript_text` utterance: the next line has no speaker prefix
# and continues the utterance (contract §2).
BREAK = "\n"

# --- people ------------------------------------------------------------------------------

LUMEN = "lumen.example.com"
# key: (name, title, is_customer, email domain or None for Lumen)
PEOPLE = {
    "ana": ("Ana Ruiz", "Senior Customer Success Manager", False, None),
    "tom": ("Tom Becker", "Senior Customer Success Manager", False, None),
    "priya": ("Priya Nair", "Customer Success Manager", False, None),
    "diego": ("Diego Morales", "Customer Success Manager", False, None),
    "marcus": ("Marcus Holt", "Solutions Engineer", False, None),
    "dana": ("Dana Lee", "VP IT", True, "northwindhealth.example"),
    "sam": ("Sam Ortiz", "Analytics Lead", True, "northwindhealth.example"),
    "carlos": ("Carlos Castillo", "Product Manager", True, "evergreenbuild.example"),
    "hannah": ("Hannah Weber", "Analytics Lead", True, "evergreenbuild.example"),
    "mei": ("Mei Chen", "Head of Data", True, "bluefinpay.example"),
    "rafael": ("Rafael Ortega", "CTO", True, "bluefinpay.example"),
    "olivia": ("Olivia Grant", "Director of Operations", True, "harborpine.example"),
    "raj": ("Raj Patel", "Merchandising Analyst", True, "harborpine.example"),
    "ben": ("Ben Adler", "Head of Ecommerce", True, "ospreyoutdoor.example"),
    "lucy": ("Lucy Park", "Data Analyst", True, "ospreyoutdoor.example"),
    "grace": ("Grace Whitfield", "Managing Partner", True, "quilllegal.example"),
    "ivan": ("Ivan Petrov", "IT Manager", True, "quilllegal.example"),
    "helen": ("Helen Brooks", "VP Analytics", True, "meridianfreight.example"),
    "omar": ("Omar Said", "Data Engineer", True, "meridianfreight.example"),
    "nora": ("Nora Feld", "Engineering Manager", True, "kestrelrobotics.example"),
    "victor": ("Victor Lang", "Operations Lead", True, "kestrelrobotics.example"),
    "ruth": ("Ruth Gomez", "Director of Data", True, "lanternschools.example"),
    "walter": ("Walter Kim", "CISO", True, "copperleafbank.example"),
    "alicia": ("Alicia Romero", "Head of Digital", True, "copperleafbank.example"),
    "jonas": ("Jonas Reed", "Head of Audience", True, "tidewatermedia.example"),
    "kara": ("Kara Singh", "Audience Analyst", True, "tidewatermedia.example"),
    "fatima": ("Fatima Noor", "COO", True, "summitclinics.example"),
    "greg": ("Greg Hall", "IT Lead", True, "summitclinics.example"),
    "peter": ("Peter Yu", "Claims Operations Manager", True, "granitebay.example"),
    "lena": ("Lena Brandt", "Live Ops Lead", True, "vireogames.example"),
    "marco": ("Marco Ricci", "Data Engineer", True, "vireogames.example"),
    "denise": ("Denise Porter", "CIO", True, "atlaspublicworks.example"),
    "luis": ("Luis Mendez", "GIS Analyst", True, "atlaspublicworks.example"),
    "sophie": ("Sophie Laurent", "Owner", True, "embercoffee.example"),
}

# --- accounts ----------------------------------------------------------------------------

# (id, name, arr, segment, tier, owner key, renewal_date)
ACCOUNTS = [
    ("gold-northwind", "Northwind Health", 410_000, "enterprise", "business", "ana",
     "2027-03-31"),
    ("gold-evergreen", "Evergreen Construction", 62_000, "mid-market", "business", "tom",
     "2027-01-23"),
    ("gold-bluefin", "Bluefin Payments", 520_000, "enterprise", "business", "priya",
     "2027-05-15"),
    ("gold-harbor", "Harbor & Pine Outfitters", 48_500, "mid-market", "growth", "diego",
     "2027-02-28"),
    ("gold-osprey", "Osprey Outdoor", 71_000, "mid-market", "growth", "ana", "2027-08-01"),
    ("gold-quill", "Quill Legal Services", 14_200, "smb", "growth", "tom", "2027-04-10"),
    ("gold-meridian", "Meridian Freight", 880_000, "enterprise", "enterprise", "priya",
     "2027-09-30"),
    ("gold-kestrel", "Kestrel Robotics", 96_000, "mid-market", "business", "diego",
     "2027-06-12"),
    ("gold-lantern", "Lantern Schools", 22_800, "smb", "growth", "ana", "2027-07-01"),
    ("gold-copperleaf", "Copperleaf Bank", 640_000, "enterprise", "business", "tom",
     "2027-03-01"),
    ("gold-tidewater", "Tidewater Media", 83_500, "mid-market", "business", "priya",
     "2027-10-15"),
    ("gold-summit", "Summit Clinics", 118_000, "mid-market", "business", "diego",
     "2027-02-05"),
    ("gold-granite", "Granite Bay Insurance", 19_700, "smb", "growth", "ana", "2027-05-20"),
    ("gold-vireo", "Vireo Games", 57_000, "mid-market", "growth", "tom", "2027-11-30"),
    ("gold-atlas", "Atlas Public Works", 305_000, "enterprise", "business", "priya",
     "2027-06-30"),
    ("gold-ember", "Ember Coffee Roasters", 6_300, "smb", "starter", "diego", "2027-03-15"),
]

# --- calls -------------------------------------------------------------------------------
# (call_id, account id, occurred_at, form "json" | "text", attendee keys, utterances);
# an utterance is (speaker key, sentence, sentence, ...).

CALLS = [
    ("gold-c01", "gold-northwind", "2026-10-06T15:00:00Z", "json", ["ana", "dana", "sam"], [
        ("ana", "Morning Dana, morning Sam.", "Thanks for making time before the holidays."),
        ("dana", "Happy to.", "It has been a week of budget meetings, so this is a nice break."),
        ("ana", "I wanted to cover the dashboard rollout, the export bug, and anything coming "
                "up on your side."),
        ("sam", "The export bug is gone on our end, the patch went out Thursday."),
        ("dana", S("Our security team needs a copy of your SOC 2 report before the January "
                   "review.", ENT, "literal"),
         "Who should I ask for it?"),
        ("ana", "I can get that to you today.",
         N("We also have a HIPAA addendum that most healthcare customers sign with the "
           "enterprise tier.", ENT, "coach")),
        ("dana", S("We are putting patient intake data into Lumen next year, so HIPAA is now a "
                   "hard requirement for us.", ENT, "literal")),
        ("sam", "On my side, the readmission dashboard is the one everybody opens first."),
        ("sam", S("Do you support SSO through Azure AD?", ENT, "literal"),
         "Right now people have yet another password to remember."),
        ("ana", "Let me bring a solutions engineer to the next call for that."),
        ("sam", "We also found a bug where the date filter ignores daylight saving time."),
        ("ana", "I'll file it today and send you the ticket number."),
        ("dana", "Great, and let's keep the same time in two weeks."),
        ("ana", "Works for me.", "I will send the invite."),
    ]),
    ("gold-c02", "gold-northwind", "2026-10-20T15:00:00Z", "text", ["ana", "marcus", "dana"], [
        ("ana", "Dana, this is Marcus, one of our solutions engineers."),
        ("marcus", "Nice to meet you.",
         N("Most customers in healthcare turn on SAML and SCIM together once they move to the "
           "enterprise tier.", ENT, "coach")),
        ("dana", "Nice to meet you too.",
         S("Legal wants everything behind our Okta by the end of the quarter.", ENT,
           "paraphrase"),
         "The contract review is on Tuesday, so I will know more after that."),
        ("dana", S("Our auditors asked for a record of who changed which dashboard, and we "
                   "can't produce one today.", ENT, "paraphrase")),
        ("marcus", "That is the change history view, I can show it on the next call."),
        ("ana", "Anything else on the bug list?"),
        ("dana", "The weekly email still lands at 6am Pacific instead of Eastern."),
        ("ana", "Known issue, the fix ships next sprint."),
    ]),
    ("gold-c03", "gold-evergreen", "2026-10-07T16:00:00Z", "text", ["tom", "carlos", "hannah"], [
        ("tom", "Hi Carlos, hi Hannah.", "How was the site visit?"),
        ("carlos", "Muddy, but good.", "We broke ground on the Denver project."),
        ("tom", "Nice.", "Today I wanted to look at adoption and the chart editor feedback."),
        ("hannah", S("The finance team is also starting to use Lumen for the monthly cost "
                     "reports.", SEATS, "literal")),
        ("hannah", S("We're hiring forty engineers next quarter and they'll all need logins.",
                     SEATS, "paraphrase")),
        ("carlos", "The chart editor is much better, by the way.",
         "The undo button alone saved me an hour."),
        ("tom", N("We can add 20 more seats to the order before the renewal.", SEATS, "coach")),
        ("carlos", "Let me check with procurement first.",
         "We had our offsite last week and the whole crew finally met in person."),
        ("hannah", N("Our SSO login page was down on Tuesday morning, but it was our identity "
                     "provider, not you.", ENT, "near_miss")),
        ("tom", "Good to know.", "I'll note it in the account notes."),
    ]),
    ("gold-c04", "gold-evergreen", "2026-11-04T16:00:00Z", "json", ["tom", "carlos"], [
        ("tom", "Thanks for jumping on, Carlos."),
        ("carlos", S("The Salt Lake office goes live on Lumen in February, that's another "
                     "eighty people.", SEATS, "paraphrase")),
        ("carlos", N("We might add ten more seats if the pilot in Austin goes well.", SEATS,
                     "conditional")),
        ("tom", "Makes sense.", "Let's plan a training session for the new office."),
        ("carlos", N("The audit log export shows timestamps in UTC instead of Denver time.", ENT,
                     "near_miss")),
        ("carlos", "Also, the date picker still resets when you switch tabs."),
        ("carlos", S("Ops is ready to pay for scheduled reports so nobody has to paste charts "
                     "into email again.", PREM, "paraphrase")),
        ("tom", "I'll chase the product team on the date picker and send you the scheduled "
                "reports one-pager."),
    ]),
    ("gold-c05", "gold-bluefin", "2026-10-08T14:00:00Z", "json", ["priya", "mei", "rafael"], [
        ("priya", "Hi both, thanks for the time.", "How did the quarter close go?"),
        ("mei", "Smoothly for once.",
         S("We keep hitting the API rate limit during the nightly warehouse sync.", PREM,
           "literal")),
        ("mei", S("Can we get higher API limits for the export endpoint?", PREM, "literal")),
        ("priya", N("Are you hitting the API rate limit on every run or only at month end?",
                    PREM, "coach")),
        ("mei", "Mostly at month end, when finance reruns everything."),
        ("rafael", S("Our fraud team wants to trigger a Slack alert automatically when a funnel "
                     "step drops, without writing scripts.", PREM, "paraphrase")),
        ("priya", "Thanks, I'll bring our solutions engineer in on the alerting question."),
        ("rafael", N("The API docs have a typo in the pagination example, by the way.", PREM,
                     "near_miss")),
        ("mei", "Otherwise the new funnel view is great.",
         "The CFO showed the revenue chart at the all-hands, which was nice."),
        ("priya", "Love that.", "Let's hold the same slot next month."),
    ]),
    ("gold-c06", "gold-bluefin", "2026-11-05T14:00:00Z", "text", ["priya", "mei", "rafael"], [
        ("priya", "Good afternoon!", "I have the renewal timeline and two product updates."),
        ("rafael", S("Finance is asking for a quote to cover the whole EMEA office.", ENT,
                     "paraphrase")),
        ("mei", "The Q4 board pack is mostly built from Lumen charts now.",
         S("Does the funnel builder support multi-touch attribution?", PREM, "literal")),
        ("priya", N("It does with the advanced analytics module, I'll send a short demo.", PREM,
                    "coach")),
        ("mei", S("We need to pull about ten million events a day through the export API.",
                  PREM, "paraphrase")),
        ("rafael", "Sounds good, send it to both of us."),
    ]),
    ("gold-c07", "gold-harbor", "2026-10-09T17:00:00Z", "json", ["diego", "olivia"], [
        ("olivia", "Hi Diego, sorry I'm late, the warehouse scanner crashed again."),
        ("diego", "No worries.", "How are the holiday dashboards holding up?"),
        ("olivia", "Fine, apart from the slow load on Monday mornings."),
        ("olivia", N("Honestly, your enterprise tier is too expensive for a team our size.", ENT,
                     "negative")),
        ("olivia", N("We're consolidating teams onto fewer seats after the reorg.", SEATS,
                     "negative")),
        ("diego", "Understood.", "I'll pull the usage report so you can see who logs in."),
        ("olivia", N("We're cutting licenses back to the people who log in every week.", SEATS,
                     "negative")),
        ("diego", "I'll send that report by Friday."),
        ("olivia", "Thanks.", "The returns dashboard is the one that matters in January."),
    ]),
    ("gold-c08", "gold-osprey", "2026-10-13T15:30:00Z", "text", ["ana", "ben", "lucy"], [
        ("ana", "Hi Ben, hi Lucy.", "How is peak planning going?"),
        ("ben", "Busy.",
         S("Marketing saw the churn dashboards and now they want in too.", SEATS, "paraphrase")),
        ("lucy", "The cohort chart still shows last week's data until I refresh twice."),
        ("lucy", S("We want to try advanced analytics for the retention cohorts before peak "
                   "season.", PREM, "literal")),
        ("ben", N("If you added a Shopify connector to the premium pack, we would buy it next "
                  "year.", PREM, "conditional")),
        ("ana", "I'll pass the Shopify request to product."),
        ("ben", "Thanks.", "Also, can we move next week's call to Thursday?"),
        ("ana", "Thursday works."),
    ]),
    ("gold-c09", "gold-quill", "2026-10-14T13:00:00Z", "json", ["tom", "grace", "ivan"], [
        ("tom", "Good morning, Grace and Ivan."),
        ("ivan", N("We'd consider the enterprise tier if you supported SCIM.", ENT,
                   "conditional")),
        ("grace", "The partners like the billable-hours dashboard, it replaced a spreadsheet we "
                  "hated."),
        ("ivan", N("Our Okta tile for Lumen stopped working after their last update.", ENT,
                   "near_miss")),
        ("tom", "Reinstalling the app from their catalogue fixes it, I'll send the steps."),
        ("grace", N("Considering our size, SSO is probably a next-year conversation.", ENT,
                    "conditional")),
        ("grace", "We have a partner retreat next week, so I'll be offline Thursday and "
                  "Friday.", "Let's pick this up after the January close."),
    ]),
    ("gold-c10", "gold-meridian", "2026-10-15T18:00:00Z", "text", ["priya", "helen", "omar"], [
        ("priya", "Hi Helen, hi Omar.", "I have thirty minutes blocked."),
        ("helen", S("Can you send pricing for 500 seats on the enterprise plan?", ENT,
                    "literal"),
         "We are at about 180 today."),
        ("omar", S("We have to show role-based permissions to the regulators before we put "
                   "customs data in Lumen.", ENT, "paraphrase")),
        ("omar", "The export to S3 job failed twice this week."),
        ("priya", "I saw that, the fix is a new IAM policy on your bucket."),
        ("omar", N("Our analytics team needs access to the staging workspace again, the invite "
                   "link expired.", SEATS, "near_miss")),
        ("helen", S("We have twelve new hires starting in January on the planning desk.", SEATS,
                    "literal")),
        ("priya", "I'll set up an onboarding session for them."),
        ("helen", "Thanks.", "The customs delay chart is on the wall in the control room now."),
    ]),
    ("gold-c11", "gold-meridian", "2026-11-12T18:00:00Z", "json", ["priya", "helen"], [
        ("priya", "Thanks for making time, Helen."),
        ("helen", S("Procurement sent over a vendor risk assessment with about two hundred "
                    "questions.", ENT, "paraphrase"),
         "Most of it is copy and paste from last year."),
        ("priya", N("I can send our SOC 2 report and the pen test summary to speed that up.",
                    ENT, "coach")),
        ("helen", "Perfect."),
        ("helen", N("We would need 20 more seats if the Dublin hiring plan gets approved.", SEATS,
                    "conditional")),
        ("priya", "Keep me posted on Dublin."),
    ]),
    ("gold-c12", "gold-kestrel", "2026-10-16T16:00:00Z", "text", ["diego", "nora", "victor"], [
        ("diego", "Hi Nora, hi Victor.", "What should we cover today?"),
        ("nora", S("Does Lumen support SCIM provisioning for Okta groups?", ENT, "literal")),
        ("nora", S("Our sales org is doubling after the acquisition closes, and every rep gets a "
                   "dashboard.", SEATS, "paraphrase")),
        ("victor", N("We tried workflow automation and it didn't fit our use case.", PREM,
                     "negative")),
        ("victor", N("Does the CSV export support semicolon delimiters?", PREM, "near_miss")),
        ("diego", "Yes, under export settings.", "I'll send a screenshot."),
        ("victor", "Thanks.", BREAK, "The German team keeps opening the files in Excel and "
                   "everything lands in one column."),
    ]),
    ("gold-c13", "gold-lantern", "2026-10-21T14:00:00Z", "json", ["ana", "ruth"], [
        ("ana", "Hi Ruth, how was the first term?"),
        ("ruth", S("We just acquired two charter schools and their principals start using "
                   "Lumen on Monday.", SEATS, "paraphrase")),
        ("ruth", N("We're still trying to figure out who actually uses this at the district "
                   "office.", SEATS, "negative")),
        ("ruth", N("The seat count on the billing page still lists people who left in June.",
                   SEATS, "near_miss")),
        ("ruth", "The attendance dashboard is the big win this term.",
         "Can you resend the training video link?", "The old one is broken."),
        ("ana", "Great to hear.", "I'll share the attendance template in our community forum."),
    ]),
    ("gold-c14", "gold-copperleaf", "2026-10-22T15:00:00Z", "text", ["tom", "walter", "alicia"], [
        ("tom", "Thanks for joining, Walter and Alicia."),
        ("walter", S("Our security questionnaire is due back to procurement on Friday.", ENT,
                     "literal")),
        ("walter", S("The audit log has to cover every export, that's a compliance requirement "
                     "for us.", ENT, "literal")),
        ("alicia", N("Workflow automation would be nice to have at some point.", PREM,
                     "conditional")),
        ("alicia", S("Our parent company just mandated single sign-on for every SaaS vendor by "
                     "March.", ENT, "paraphrase")),
        ("tom", N("Happy to get you pricing for 300 seats on the enterprise tier.", ENT,
                  "coach")),
        ("walter", N("We finished our own SOC 2 audit last month, so everyone is exhausted.",
                     ENT, "near_miss")),
        ("alicia", "The mobile app crashed twice on my phone this week."),
        ("tom", "Sorry about that, could you send me the app version?"),
        ("alicia", "Sure.", "Let's regroup after the holidays."),
    ]),
    ("gold-c15", "gold-tidewater", "2026-10-23T19:00:00Z", "json", ["priya", "jonas", "kara"], [
        ("priya", "Hi Jonas, hi Kara!"),
        ("kara", N("We're using Amplitude for advanced analytics instead.", PREM, "negative")),
        ("jonas", S("The podcast team is also starting to use Lumen for download reports.",
                    SEATS, "literal")),
        ("jonas", S("Customer support wants their own workspace for ticket trends.", SEATS,
                    "paraphrase")),
        ("kara", "The embed on our newsroom page flickers on Safari.",
         "Our newsletter open-rate chart is also off by a day, probably timezones."),
        ("priya", "I'll raise the Safari bug today."),
    ]),
    ("gold-c16", "gold-summit", "2026-10-27T16:30:00Z", "text", ["diego", "fatima", "greg"], [
        ("diego", "Hi Fatima, hi Greg.", "How are the new clinics settling in?"),
        ("fatima", N("Thinking about upgrading once HIPAA becomes a requirement for the clinic "
                     "side.", ENT, "conditional")),
        ("greg", S("The new CISO wants every tool on the company directory with automatic "
                   "deprovisioning.", ENT, "paraphrase")),
        ("fatima", "The wait-time dashboard is on the big screen in every clinic now."),
        ("greg", "The kiosks reboot every night at two, so the wall screens go blank for a "
                 "minute."),
        ("diego", "I'll send the directory integration guide."),
    ]),
    ("gold-c17", "gold-granite", "2026-10-28T14:00:00Z", "json", ["ana", "peter"], [
        ("ana", "Hi Peter, thanks for the time."),
        ("peter", S("Half the claims team has been borrowing my login, so we need to fix that "
                    "properly.", SEATS, "paraphrase")),
        ("peter", N("The new hires from last spring are finally comfortable building charts.",
                    SEATS, "near_miss")),
        ("peter", "The claims backlog dashboard saved us a weekly meeting."),
        ("ana", N("I'll send over a quote for the rest of the claims team.", SEATS, "coach")),
        ("peter", N("If you added SAML, we would look at upgrading next year.", ENT,
                    "conditional")),
    ]),
    ("gold-c18", "gold-vireo", "2026-10-29T17:00:00Z", "text", ["tom", "lena", "marco"], [
        ("tom", "Hey Lena, hey Marco."),
        ("lena", "Hey Tom.", "The patch last week fixed the retention chart, thanks for turning "
                 "it around so fast."),
        ("marco", S("We're trying to predict churn from sessions — is that on the roadmap?",
                    PREM, "literal")),
        ("lena", S("We're rolling out to 60 more people in the Montreal studio next month.",
                   SEATS, "literal")),
        ("marco", S("The nightly sync keeps getting throttled, so we need a bigger API "
                    "allowance.", PREM, "paraphrase")),
        ("lena", N("Does the dashboard support dark mode yet?", PREM, "near_miss")),
        ("tom", "Not yet, it's on the list for spring."),
        ("marco", N("Your status page said the API was degraded during the incident on Sunday.",
                    PREM, "near_miss")),
        ("marco", S("Our data science team wants churn scores inside Lumen instead of in a "
                    "notebook.", PREM, "paraphrase")),
    ]),
    ("gold-c19", "gold-atlas", "2026-11-02T15:00:00Z", "json", ["priya", "denise", "luis"], [
        ("priya", "Good morning, Denise and Luis."),
        ("denise", S("We need FedRAMP authorization before the state renews our contract.", ENT,
                     "literal")),
        ("luis", "The map layer is slow when we zoom past the county level."),
        ("denise", "Council meets on the fourth, so I need the snow-plow dashboard working by "
                   "then."),
        ("denise", N("HIPAA doesn't apply to us anymore since the health department moved to "
                     "its own system.", ENT, "negative")),
        ("luis", S("Our permits team needs access before the spring construction season.",
                   SEATS, "literal")),
        ("luis", S("Can we get a trial of workflow automation for the permit approvals?", PREM,
                   "literal")),
        ("priya", "I'll get the permits team set up this week."),
    ]),
    ("gold-c20", "gold-ember", "2026-11-03T16:00:00Z", "text", ["diego", "sophie"], [
        ("diego", "Hi Sophie!"),
        ("sophie", N("We need to drop down a tier at renewal, the audit log is the only "
                     "enterprise thing anyone looked at.", ENT, "negative")),
        ("sophie", "Cash is tight after the new roastery.",
         "The wholesale dashboard is still the first thing I open every morning."),
        ("sophie", N("We want to reduce our seat count to about eight in March.", SEATS,
                     "negative")),
        ("diego", "Understood, I'll prepare the renewal options."),
    ]),
    ("gold-c21", "gold-osprey", "2026-11-09T15:30:00Z", "json", ["ana", "ben"], [
        ("ana", "Quick check-in before peak, Ben."),
        ("ben", N("We already have SSO through Google Workspace, so SAML is not a priority.", ENT,
                  "negative")),
        ("ben", "Our holiday product pages went live and the funnel looks healthy.",
         "Peak season starts next week so I'll be slow on email."),
        ("ana", "No problem, good luck with the launch."),
    ]),
    ("gold-c22", "gold-harbor", "2026-11-10T17:00:00Z", "text", ["diego", "olivia", "raj"], [
        ("diego", "Hi Olivia, hi Raj."),
        ("raj", N("Advanced analytics is overkill for us, the standard funnels cover "
                  "everything.", PREM, "negative")),
        ("olivia", N("The security team signed off on our current setup, so no SAML changes "
                     "this year.", ENT, "negative")),
        ("raj", "The holiday forecast dashboard needs a new color for returns."),
        ("diego", "I'll send you the palette settings."),
    ]),
    ("gold-c23", "gold-kestrel", "2026-11-11T16:00:00Z", "json", ["diego", "nora"], [
        ("diego", "Hi Nora."),
        ("nora", S("We need 15 more seats for the firmware group by the first of the month.",
                   SEATS, "literal")),
        ("nora", N("If advanced analytics came with the business plan, we would turn it on "
                   "tomorrow.", PREM, "conditional")),
        ("nora", S("Send me what the anomaly alerts add-on costs, we want it live before Black "
                   "Friday.", PREM, "paraphrase")),
        ("diego", "Will do, you'll have it today."),
        ("nora", "Thanks.", "The firmware crash chart has been really useful for our stand-ups."),
    ]),
    ("gold-c24", "gold-tidewater", "2026-11-13T19:00:00Z", "text", ["priya", "jonas"], [
        ("priya", "Hi Jonas."),
        ("jonas", N("If your pricing for bigger teams comes down, the sales org could join.",
                    SEATS, "conditional")),
        ("jonas", N("We'd look at the premium pack if the API limit were higher.", PREM,
                    "conditional")),
        ("jonas", N("We turned off workflow automation because it kept double-posting to "
                    "Slack.", PREM, "negative")),
        ("priya", "Thanks for the candour, I'll share that with product."),
        ("jonas", "The audience dashboard loads much faster since last week's fix, by the way."),
    ]),
    # Issue 13 ("Real calls"): negations, removed features, questions answered no,
    # polite asks, and sentences with titles, abbreviations and ellipses, in long calls
    # with small talk.
    ("gold-c25", "gold-northwind", "2026-11-16T15:00:00Z", "json", ["ana", "dana", "sam"], [
        ("ana", "Morning both, how was the long weekend?"),
        ("dana", "Too short.", "My kids discovered the snow, so nobody slept."),
        ("sam", "Same here, we drove up to the lake and the car died on the way back."),
        ("ana", "Oh no.", "Okay, I have the rollout, the Entra ID question, and renewal."),
        ("dana", N("If Dr. Brooks approves the budget, we need 30 more seats for radiology.",
                   SEATS, "split", "conditional")),
        ("dana", S("Dr. Okafor says our security team needs a HIPAA review before go-live.",
                   ENT, "split")),
        ("sam", N("Honestly, SAML isn't something we need while everyone is on Entra ID "
                  "passwordless.", ENT, "negated")),
        ("ana", "Got it, I'll take that off the list."),
        ("dana", S("If I'm honest, our security team needs the SOC 2 bridge letter before we "
                   "sign.", ENT, "polite")),
        ("sam", N("Advanced analytics?", PREM, "negated"),
         "No, we dropped it after the pilot, the team lives in notebooks."),
        ("dana", "Anyway, the readmission dashboard is still the star of the show.",
         "The board loved it."),
        ("ana", "Glad to hear.", "Same time in two weeks?"),
        ("dana", "Works."),
    ]),
    ("gold-c26", "gold-kestrel", "2026-11-17T16:00:00Z", "text", ["diego", "nora", "victor"], [
        ("diego", "Hi Nora, hi Victor, congrats on the launch."),
        ("nora", "Thanks, it was a long night.", "The robots behaved, the coffee machine did "
                 "not."),
        ("victor", N("We ripped out workflow automation in the spring, it kept firing twice.",
                     PREM, "negated")),
        ("nora", S("We'd love to add 25 more seats for the firmware interns in January.", SEATS,
                   "polite")),
        ("nora", N("If the pilot goes well... we need 40 more seats for the field crews.", SEATS,
                   "split", "conditional")),
        ("victor", S("We don't use Okta for the plant floor, but we need SCIM for the office "
                     "staff.", ENT, "literal")),
        ("diego", "Makes sense, I'll send the SCIM setup guide."),
        ("victor", N("We already have SCIM running through Azure AD for the office.", ENT,
                     "negated")),
        ("nora", S("Would you send pricing for 400 seats before Friday?", ENT, "polite")),
        ("diego", "Will do."),
        ("victor", "The German team still opens the CSV in Excel, by the way.",
         "Semicolons fixed it."),
    ]),
    ("gold-c27", "gold-copperleaf", "2026-11-18T15:00:00Z", "json", ["tom", "walter", "alicia"], [
        ("tom", "Thanks for making time in audit season."),
        ("walter", "Audit season never ends here.", "We just finished the regulator visit."),
        ("walter", N("We no longer need the audit log export since compliance moved to the "
                     "parent company's tooling.", ENT, "negated")),
        ("alicia", N("Workflow automation is not a priority this year.", PREM, "negated")),
        ("alicia", S("To be honest, we need FedRAMP-level controls before the state contract "
                     "in March.", ENT, "polite")),
        ("walter", S("We can't go live in Ohio without SAML.", ENT, "literal")),
        ("alicia", S("Could you get us higher API limits by next week, if possible?", PREM,
                     "polite")),
        ("alicia", N("We stopped using advanced analytics when the budget got cut.", PREM,
                     "negated")),
        ("tom", "Understood.", "I'll come back with the API options on Thursday."),
        ("walter", "Thanks, and say hi to Mr. Becker senior for me.", "He owes me lunch."),
    ]),
    ("gold-c28", "gold-tidewater", "2026-11-19T19:00:00Z", "text", ["priya", "jonas", "kara"], [
        ("priya", "Hi Jonas, hi Kara, how did the election night coverage go?"),
        ("jonas", "Exhausting, but the live dashboards held up."),
        ("kara", S("SCIM?", ENT, "literal"),
         "Yes, that's the blocker before the newsroom moves to the new directory."),
        ("jonas", N("There's no need for HIPAA paperwork, we don't store patient data.", ENT,
                    "negated")),
        ("kara", N("If we standardize on one vendor, e.g. for alerts and reports, we need "
                   "workflow automation everywhere.", PREM, "split", "conditional")),
        ("jonas", S("We want advanced analytics for the big advertisers, e.g. the car dealers, "
                    "before the holidays.", PREM, "split")),
        ("kara", N("We'd love to add 30 more seats if the budget gets approved.", SEATS,
                   "conditional")),
        ("jonas", N("Last year we asked you to add 10 more seats and that got sorted, thanks.",
                    SEATS, "negated")),
        ("priya", "Great, I'll send the recap tonight."),
    ]),
]

# --- support tickets ---------------------------------------------------------------------
# (ticket_id, account id, opened_at, tags, subject, [body sentences])

TICKETS = [
    ("gold-t01", "gold-meridian", "2026-10-16T09:00:00Z", ["billing"],
     S("Order form for the planning desk", SEATS, "ticket"),
     [S("We need 25 more seats for the planning desk starting December 1.", SEATS, "ticket"),
      "Please send an updated order form."]),
    ("gold-t02", "gold-northwind", "2026-10-21T10:00:00Z", ["sso"],
     S("SAML metadata for Azure AD", ENT, "ticket"),
     [S("Our security team needs SAML configured before we move the billing department onto "
        "Lumen.", ENT, "ticket"),
      "Who can help with the metadata file?"]),
    ("gold-t03", "gold-evergreen", "2026-10-22T11:00:00Z", ["bug", "audit-log"],
     N("Audit log export missing events", ENT, "ticket"),
     [N("The audit log CSV skips events between 02:00 and 03:00 UTC.", ENT, "ticket"),
      "We noticed it during our monthly access review."]),
    ("gold-t04", "gold-bluefin", "2026-10-23T12:00:00Z", ["api"],
     S("Rate limit on the export API", PREM, "ticket"),
     [S("The export job is hitting the API rate limit every night around 01:00.", PREM,
        "ticket"),
      S("Is there a plan with higher API limits?", PREM, "ticket")]),
    ("gold-t05", "gold-harbor", "2026-10-26T13:00:00Z", ["billing"],
     "Invoice address change",
     ["Please update the billing address on our invoices to the new Reno warehouse."]),
    ("gold-t06", "gold-osprey", "2026-10-27T14:00:00Z", ["performance"],
     "Dashboard slow to load on Mondays",
     ["The executive dashboard takes almost a minute to load on Monday mornings.",
      "It has about forty charts."]),
    ("gold-t07", "gold-kestrel", "2026-10-28T15:00:00Z", ["billing", "trial"],
     N("Workflow automation trial", PREM, "ticket"),
     [N("We tried workflow automation during the trial and it didn't fit our use case.", PREM,
        "ticket"),
      "Please cancel the trial so we are not billed."]),
    ("gold-t08", "gold-ember", "2026-10-29T16:00:00Z", ["billing", "renewal"],
     N("Downgrade at renewal", ENT, "ticket"),
     [N("We plan to drop down a tier at renewal because SCIM was the only enterprise feature we "
        "used.", ENT, "ticket")]),
    ("gold-t09", "gold-atlas", "2026-11-03T09:30:00Z", ["onboarding"],
     S("New team onboarding", SEATS, "ticket"),
     [S("Our inspections team needs access to Lumen before the January kickoff.", SEATS,
        "ticket"),
      "There are twelve of them."]),
    ("gold-t10", "gold-quill", "2026-11-04T10:30:00Z", ["login"],
     N("SSO login loop", ENT, "ticket"),
     [N("Users get stuck in a redirect loop after the Okta login.", ENT, "ticket"),
      "Clearing cookies fixes it for a day."]),
    ("gold-t11", "gold-copperleaf", "2026-11-05T11:30:00Z", ["billing"],
     "Pricing question",
     [S("Finance asked for a quote for 300 seats on the enterprise plan before budget lock on "
        "the 15th.", ENT, "ticket")]),
    ("gold-t12", "gold-tidewater", "2026-11-06T12:30:00Z", ["feature-request"],
     "Cohort exports",
     [N("If advanced analytics included cohort exports we would upgrade, but for now we will "
        "stay on the business plan.", PREM, "ticket")]),
    ("gold-t13", "gold-vireo", "2026-11-09T13:30:00Z", ["bug", "export"],
     "Chart export broken in Firefox",
     ["Exporting a chart to PNG gives a blank image in Firefox.",
      "Chrome works fine."]),
    ("gold-t14", "gold-summit", "2026-11-10T14:30:00Z", ["compliance"],
     S("Compliance documents for the clinics", ENT, "ticket"),
     [S("We need your HIPAA documentation before the clinics go live in February.", ENT,
        "ticket")]),
    ("gold-t15", "gold-quill", "2026-11-17T10:30:00Z", ["sso"],
     "Close the SAML request",
     [N("We no longer need SAML, the partners voted to stay on passwords.", ENT, "ticket",
        "negated"),
      "Please close the ticket."]),
    ("gold-t16", "gold-lantern", "2026-11-18T11:30:00Z", ["provisioning"],
     S("Seats for the new campus", SEATS, "ticket"),
     [S("We would appreciate it if you could add 12 more seats for the new campus by "
        "Monday.", SEATS, "polite")]),
]

# --- building ----------------------------------------------------------------------------

_MARKER = re.compile(r"\b(if|would|considering|thinking about)\b|'d\b", re.IGNORECASE)


def _text(part: str | Sentence) -> str:
    return part.text if isinstance(part, Sentence) else part


def _join(parts: list[str | Sentence]) -> str:
    out = ""
    for part in parts:
        if part == BREAK:
            out += "\n"
        else:
            out += ("" if not out or out.endswith("\n") else " ") + _text(part)
    return out


def _sentences(text: str) -> list[str]:
    # esd's own rule (contract §5.3): .!? before whitespace, not after Mr./e.g./an initial,
    # not inside an ellipsis.
    try:
        from esd.text import sentence_spans
    except ImportError:  # run as a script from outside the repository's environment
        import sys

        sys.path.insert(0, str(HERE.parents[1]))
        from esd.text import sentence_spans

    return [text[a:b].strip() for a, b in sentence_spans(text)]


def _check(sentence: Sentence, source_id: str, unit: str) -> None:
    # Each labeled sentence is exactly one sentence of its utterance (or subject, body).
    assert sentence.text in _sentences(unit), (source_id, sentence.text)
    for label, _, kind, _reason in sentence.labels:
        assert kind in KINDS, (source_id, kind)
        if label == "signal" and kind not in ("polite", "split"):
            # A signal must not trip the conditional guard by its wording alone.
            assert not _MARKER.search(sentence.text), (source_id, sentence.text)


def _labels(account_id: str, source_id: str, parts: list[str | Sentence]) -> list[dict]:
    out = []
    for part in parts:
        if isinstance(part, Sentence):
            _check(part, source_id, _join(parts))
            for label, sku, kind, reason in part.labels:
                out.append({"account_id": account_id, "source_id": source_id, "sku": sku,
                            "label": label, "quote": part.text, "kind": kind,
                            **({"reason": reason} if reason else {})})
    return out


def _person(key: str) -> dict:
    name, title, is_customer, domain = PEOPLE[key]
    local = name.lower().replace(" ", ".")
    return {"name": name, "title": title, "email": f"{local}@{domain or LUMEN}",
            "is_customer": is_customer}


def build() -> dict[str, list]:
    """The five files as Python data."""
    accounts = [{"id": id_, "name": name, "arr": float(arr), "segment": segment, "tier": tier,
                 "owner_email": _person(owner)["email"], "owner_name": PEOPLE[owner][0],
                 "renewal_date": renewal}
                for id_, name, arr, segment, tier, owner, renewal in ACCOUNTS]
    known = {a["id"] for a in accounts}
    calls, tickets, labels = [], [], []
    for call_id, account_id, when, form, keys, utterances in CALLS:
        assert account_id in known, call_id
        record = {"account_id": account_id, "call_id": call_id, "occurred_at": when,
                  "attendees": [_person(k) for k in keys]}
        turns = []
        for speaker, *parts in utterances:
            assert speaker in keys, (call_id, speaker)
            turns.append((PEOPLE[speaker][0], _join(parts)))
            labels += _labels(account_id, call_id, parts)
        if form == "json":
            record["transcript"] = [{"speaker": s, "text": t} for s, t in turns]
        else:
            record["transcript_text"] = "".join(f"{s}: {t}\n" for s, t in turns)
        calls.append(record)
    for ticket_id, account_id, when, tags, subject, body in TICKETS:
        assert account_id in known, ticket_id
        tickets.append({"ticket_id": ticket_id, "account_id": account_id,
                        "subject": _text(subject), "body_summary": _join(body),
                        "tags": tags, "opened_at": when})
        labels += _labels(account_id, ticket_id, [subject])
        labels += _labels(account_id, ticket_id, body)
    seen = set()
    for label in labels:
        key = (label["source_id"], label["sku"], label["quote"])
        assert key not in seen, key
        seen.add(key)
    return {"accounts.json": accounts, "calls.json": calls, "usage_events.json": [],
            "support_tickets.json": tickets, "labels.json": labels}


def render() -> dict[str, str]:
    """File name -> exact file text."""
    return {name: json.dumps(data, indent=1, ensure_ascii=False) + "\n"
            for name, data in build().items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in render().items():
        (args.out / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(render())} files to {args.out}")


if __name__ == "__main__":
    main()
