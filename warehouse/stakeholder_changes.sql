-- esd reads org-chart changes from this query (optional: esd.toml [warehouse]
-- stakeholder_changes; without it the champion-departure guard cannot run, and every
-- digest says so). Return the changes of the look-back, these columns:
--   account_id    text
--   change_type   text      new_hire, promotion or departure
--   role          text      may be NULL
--   is_champion   boolean
--   occurred_at   timestamp (or ISO 8601 text)
-- :lookback_start is 30 days before :window_end (contract §3).
select account_id,
       change_type,
       role,
       cast(is_champion as boolean) as is_champion,
       cast(occurred_at as timestamptz) as occurred_at
from read_csv('warehouse/data/stakeholder_changes.csv', header = true, all_varchar = true)
where cast(occurred_at as timestamptz) >= :lookback_start
  and cast(occurred_at as timestamptz) < :window_end
