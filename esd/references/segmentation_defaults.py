"""The seed's segmentation model (002, steps 1-6) as the default configuration: what
`esd segment` uses when there is no `references/4-segmentation.md`, and what the
shipped file spells out for the team to edit."""

from __future__ import annotations

from esd.references.segmentation_schema import (
    HealthBand,
    HealthWeight,
    SegmentationConfig,
    TierSpec,
)

TIERS = [
    TierSpec(tier=1, name="Strategic", share_accounts=(5, 10), share_arr=(50, 60),
             csm_ratio=(5, 8), arr_per_csm=(None, 500_000), motion="High-Touch", details={
                 "Motion": "Named CSM, dedicated AE, executive sponsor from vendor side",
                 "Cadence": "Monthly business review, QBR every quarter, executive sponsor "
                            "call bi-annually",
                 "Channels": "Phone, Slack Connect, in-person / video",
                 "Playbooks": "Full onboarding, custom success plan, expansion proactive, "
                              "multi-year renewal",
                 "Escalation": "CSM manager and VP CS have direct visibility"}),
    TierSpec(tier=2, name="Growth", share_accounts=(20, 30), share_arr=(30, 40),
             csm_ratio=(15, 25), arr_per_csm=(1_000_000, 2_000_000), motion="Mid-Touch",
             details={
                 "Motion": "Pooled CSM with account ownership, AE on expansion calls only",
                 "Cadence": "Bi-monthly check-in, QBR twice per year",
                 "Channels": "Email, video, occasional Slack",
                 "Playbooks": "Templatized onboarding, health-triggered outreach, expansion "
                              "at 70%+ utilization",
                 "Escalation": "Health score drop triggers CSM manager review"}),
    TierSpec(tier=3, name="Scale", share_accounts=(30, 40), share_arr=(10, 20),
             csm_ratio=(50, 100), arr_per_csm=(2_000_000, 5_000_000),
             motion="Digital / Light Touch", details={
                 "Motion": "Automated health monitoring, CSM engages on signals only",
                 "Cadence": "Quarterly email QBR, automated in-app nudges",
                 "Channels": "Email, in-app messaging, help center",
                 "Playbooks": "In-app onboarding, automated health alerts, self-serve "
                              "expansion",
                 "Escalation": "Red health score or expansion signal queues CSM outreach"}),
    TierSpec(tier=4, name="Long Tail", share_accounts=(30, 40), share_arr=(5, 10),
             csm_ratio=None, motion="Self-Serve", details={
                 "Motion": "Community forum, knowledge base, in-app guidance",
                 "Cadence": "Lifecycle emails only (triggered by behavior)",
                 "Channels": "Email, in-app, community, chatbot",
                 "Playbooks": "Automated onboarding sequences, upgrade prompts at usage "
                              "limits",
                 "Escalation": "High ARR accounts in this tier should be reviewed for tier "
                               "promotion"}),
]

WEIGHTS = [
    HealthWeight(key="usage", label="Product usage (DAU/MAU ratio)", weight=30),
    HealthWeight(key="adoption", label="Feature adoption (core features used / available)",
                 weight=20),
    HealthWeight(key="support", label="Support health (CSAT score, open escalations)",
                 weight=20),
    HealthWeight(key="relationship", label="Relationship quality (exec access, champion "
                 "active)", weight=15),
    HealthWeight(key="nps", label="NPS / satisfaction signal", weight=15),
]

BANDS = [
    HealthBand(name="Healthy", min_score=80, color="Green"),
    HealthBand(name="Stable", min_score=60, color="Yellow"),
    HealthBand(name="At Risk", min_score=40, color="Orange"),
    HealthBand(name="Critical", min_score=0, color="Red"),
]


def default_config() -> SegmentationConfig:
    return SegmentationConfig(tiers=[t.model_copy(deep=True) for t in TIERS],
                              weights=[w.model_copy() for w in WEIGHTS],
                              bands=[b.model_copy() for b in BANDS])
