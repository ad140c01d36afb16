"""The prefilter's general expansion lexicon, in two cuts (issue 13, item 7).

`SHARP` (the default) is intent-shaped: a sentence is kept when it holds an expansion
*object* (more people, a team or office coming on, a plan or add-on, identity and
compliance asks, API headroom, premium features) *and* an intent cue in the same
sentence (need, want, plan to, going to, a price or quote, let's, can you ...), or one of
a few patterns specific enough to stand alone ("another thirty people", SCIM, a BAA,
throttled). Ordinary product talk shares the nouns ("the rollout finished", "the
login page was slow", "the export times out") but rarely pairs them with intent, so
it stays home.

`BROAD` is the first lexicon: any of those nouns alone keeps a sentence. It keeps
nearly every sentence of ordinary talk; `esd eval` and benchmarks/bench_tokens.py
measure the two side by side.

Regex fragments over folded text (lower case, contractions expanded: "we'd" reads
"we would"); each matches whole words.
"""

from __future__ import annotations

import re

_QTY = (r"(?:\d+|a dozen|dozens?|hundreds?|thousands?|a few|several|a couple|"
        r"(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:-\w+)?|"
        r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
        r"\w+teen)(?: hundred| thousand)?)")
# People and places that come on board.
_WHO = (r"(?:users?|people|folks|employees|engineers|developers|analysts|reps|agents|"
        r"managers|members|colleagues|staff|hires|seats?|licen[cs]es?|logins?|accounts?|"
        r"credentials|viewers|editors|admins|testers|designers|recruiters|technicians|"
        r"pickers|dispatchers|drivers|nurses|doctors|clinicians|teachers|students|"
        r"associates|contractors|consultants|interns|leads|specialists|coordinators|"
        r"planners|buyers|writers|marketers|sellers|advisors|adjusters|operators)")
_UNIT = (r"(?:teams?|departments?|groups?|divisions?|business units?|regions?|offices?|"
         r"sites?|locations?|stores?|branch(?:es)?|clinics?|hospitals?|schools?|"
         r"subsidiar(?:y|ies)|entit(?:y|ies)|brands?|pods?|org|organi[sz]ation|company|"
         r"business|workforce|crew|shifts?|squads?|units?|countries)")

# Specific enough to keep a sentence on their own ("api" too: the gold set labels API
# complaints as near-misses a model must see to reject).
STANDALONE: tuple[str, ...] = (
    rf"(?:more|another|additional|extra|other) (?:\w+ ){{0,3}}(?:{_WHO}|{_UNIT})",
    rf"{_QTY} (?:more|new|additional|extra) (?:\w+ ){{0,2}}{_WHO}",
    r"headcount", r"new hires", r"hiring", r"staffing up", r"(?:de)?provisioning",
    r"seat count", r"licen[cs]e count", r"user count",
    r"api", r"sso", r"saml", r"scim", r"single sign-?on", r"identity provider", r"idp",
    r"okta", r"azure ad", r"entra(?: id)?", r"onelogin", r"active directory",
    r"two-factor", r"2fa", r"mfa", r"soc ?2", r"hipaa", r"fedramp", r"iso ?27001",
    r"baa", r"business associate agreement", r"dpa", r"data residency", r"pen ?test\w*",
    r"rbac", r"role-based", r"allow-?list\w*", r"ip whitelist\w*",
    r"audit (?:log|trail)s?", r"security questionnaire", r"vendor (?:risk|security)",
    r"throttl(?:e|ed|ing)", r"rate[- ]?limit(?:ed|ing|s)?", r"429s?", r"headroom",
    r"true-?up", r"overages?", r"order form", r"company-?wide", r"org-?wide",
    r"outgr(?:ow|owing|own|ew)", r"maxed out", r"max out",
    r"(?:come|comes|coming|came) (?:aboard|on ?board)", r"wants? in", r"want in on",
    r"acqui(?:re|red|ring|sition)s?", r"mergers?",
    r"(?:higher|bigger|larger|more) (?:\w+ )?(?:limits?|caps?|quotas?|allowance|volume|"
    r"capacity|tiers?|plans?|packages?|bundles?|teams?|editions?)",
)

# What intent is about: units of people, plans, features, limits, compliance.
OBJECTS: tuple[str, ...] = (
    _WHO.replace("users?|people|folks|employees|", "").replace("members|colleagues|staff|", ""),
    _UNIT, rf"{_QTY} (?:\w+ ){{0,2}}{_WHO}", r"get in(?! touch)", r"usage",
    r"everyone", r"everybody", r"all of (?:them|us)", r"the rest of",
    r"whole", r"entire", r"every", r"their own", r"its own", r"access",
    r"workspaces?", r"instance", r"on board", r"onboard\w*", r"day one",
    r"plans?", r"tiers?", r"packages?", r"bundles?", r"editions?", r"contracts?",
    r"agreements?", r"add-?ons?", r"add-?ins?", r"modules?", r"features? packs?",
    r"enterprise", r"premium", r"msa", r"sla", r"uptime", r"support engineer",
    r"security", r"compliance", r"complian\w+", r"audits?", r"auditors?", r"regulat\w+",
    r"examiners?", r"legal", r"infosec", r"ciso", r"identity", r"permissions?",
    r"directory", r"provision\w*", r"log ?ins?", r"sign-?on", r"trail",
    r"api", r"endpoints?", r"calls", r"limits?", r"caps?", r"capacity", r"quota",
    r"volume", r"allowance", r"automat\w*", r"auto-\w+", r"workflows?", r"routing",
    r"triggers?", r"rules engine", r"analytics", r"reporting", r"reports", r"forecast\w*",
    r"predictive", r"cohorts?", r"retention", r"scoring", r"sandbox\w*", r"ai",
)

# Intent: a need, a plan, a purchase, a request.
CUES: tuple[str, ...] = (
    r"needs?", r"needed", r"wants?", r"would (?:like|love)", r"like to", r"love to",
    r"plan(?:s|ning)? (?:is |are )?to", r"the plan is", r"going to", r"gonna",
    r"will (?:need|be|want|have|all|join|start|go|move|get|use|live)",
    r"looking (?:to|for|at|into)", r"hoping", r"interested", r"ready to", r"asking for",
    r"asked (?:me|us|for)", r"requir\w*", r"must", r"must-have", r"(?:has|have) to",
    r"insists?", r"expects?", r"approved", r"budget\w*", r"quotes?", r"pric(?:e|es|ing)",
    r"costs?", r"how much", r"proposal", r"paperwork", r"buy\w*", r"pay(?:ing)? for",
    r"upgrad\w*", r"bump", r"move (?:us|to|over|onto|them)", r"moving", r"migrat\w*",
    r"bring(?:ing)? (?:\w+ ){0,4}(?:on|onto|over|in)", r"adding", r"add",
    r"turn(?:ed)? on", r"switch(?:ed)? on", r"enable", r"trial", r"get",
    r"give", r"sign on", r"joining", r"starting", r"starts", r"opening", r"spinning up",
    r"taking on", r"rolling (?:\w+ )?out", r"roll (?:\w+ )?out", r"go(?:es)? live",
    r"expand\w*", r"grow\w*", r"scal(?:e|ing) up", r"doubl\w+", r"tripl\w+",
    r"can (?:you|we|i|the|our|they)", r"about to", r"could (?:you|we|i)", r"is there",
    r"do you (?:have|offer)",
    r"let us", r"should be (?:on|in|using)", r"all be", r"before (?:renewal|we|the|signing)",
    r"until we", r"next (?:week|month|quarter|year|fiscal)", r"this (?:quarter|year)",
    r"by (?:year end|the end|summer|spring|fall|the first)", r"sign off", r"asked to",
    r"blow(?:ing)? (?:past|through)", r"burn(?:ing|s)? through", r"run(?:ning)? out of",
    r"hit(?:ting|s)? (?:the|our)", r"keep hitting", r"more than", r"join\w*",
    r"look at", r"(?:start|started|starting|also) using", r"cut(?:ting)?", r"reduc\w+",
    r"downgrad\w+", r"drop(?:ping)? down", r"consolidat\w+",
)
# Words that look like cues but are ordinary talk.
NOT_CUES = (r"purchase order",)

BROAD: tuple[str, ...] = (
    # people and seats
    r"seats?", r"licen[cs](?:e|es|ed|ing)", r"logins?", r"log-?ins?", r"user ?base",
    r"(?:more|new|extra|additional|another|other)"
    r" (?:\w+ )?(?:users|people|folks|employees|engineers|analysts|reps|agents|"
    r"managers|members|colleagues|staff|hires|seats|accounts|teams|offices|sites)",
    r"(?:\d+|[a-z]+ty|[a-z]+teen|hundreds?|dozens?|thousands?) (?:\w+ )?"
    r"(?:hires|seats|engineers|employees|reps|agents|new people)",
    r"hir(?:e|es|ed|ing)", r"new hires?", r"headcount", r"onboard(?:s|ed|ing)?",
    r"(?:de)?provision\w*", r"access for", r"need(?:s)? access", r"get access",
    r"give (?:\w+ )?access",
    # teams, departments, rollout
    r"(?:another|other|second|third|new|whole|entire|sister) (?:\w+ )?"
    r"(?:teams?|departments?|groups?|divisions?|business units?|regions?|offices?)",
    r"(?:teams?|orgs?|groups?|departments?|divisions?) (?:are |is )?"
    r"(?:want|wants|need|needs)", r"departments?", r"company-?wide",
    r"wants? (?:in|their own|its own|our own)", r"(?:own|new|separate|second) workspaces?",
    r"directory", r"doubling", r"tripling", r"(?:will|going to) (?:double|triple)",
    r"acqui(?:re|red|ring|sition)s?", r"mergers?",
    r"org-?wide", r"across the (?:company|org|organi[sz]ation|business)", r"divisions?",
    r"subsidiar(?:y|ies)", r"roll(?:ing|ed)? (?:it |this |lumen )?out", r"rollout",
    r"expan(?:d|ds|ded|ding|sion)", r"grow(?:s|ing|th)?", r"scal(?:e|es|ed|ing) up",
    r"(?:also|started|starting|start) (?:to )?us(?:e|ing)", r"adopt(?:s|ed|ing|ion)?",
    # plans, tiers, pricing, contract
    r"upgrad(?:e|es|ed|ing)", r"tiers?", r"plans? (?:above|up|with)", r"higher plan",
    r"enterprise", r"premium", r"add-?ons?", r"pric(?:e|es|ing)", r"quotes?",
    r"purchas(?:e|es|ed|ing)", r"pay(?:ing)? for", r"order form",
    r"vendor (?:risk|security)", r"true-?up", r"overage",
    # limits and capacity
    r"limits?", r"rate-?limit(?:ed|ing)?", r"capacity", r"quota", r"throttl(?:e|ed|ing)",
    r"api", r"volume", r"outgrow(?:n|ing)?", r"max(?:ed)? out", r"ceiling", r"cap(?:ped)?",
    # security and compliance
    r"sso", r"saml", r"scim", r"okta", r"single sign-?on", r"security", r"compliance",
    r"complian(?:t|ce)", r"audit(?:s|or|ors)?", r"soc ?2", r"hipaa", r"gdpr", r"fedramp",
    r"iso ?27001", r"rbac", r"permissions?", r"roles?-based",
    # premium features
    r"automat\w*", r"workflows?", r"advanced", r"analytics",
)


def words(fragments: tuple[str, ...] | list[str]) -> re.Pattern[str]:
    """One pattern matching any fragment as whole words."""
    return re.compile(r"(?<!\w)(?:" + "|".join(fragments) + r")(?!\w)")
