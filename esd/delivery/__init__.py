"""Delivering digests: Slack Block Kit rendering (`mrkdwn`) and the Slack client (`slack`)."""
