"""Where outputs go: the exactly-once Slack ledger (`ledger`), Slack itself (`slack`,
`mrkdwn`) and output folders written all at once (`folder`)."""
