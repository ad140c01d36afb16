-- Org-chart changes of the champion look-back, the 30 days before the window's end
-- (contract §2, stakeholder_changes.json).
-- Columns: account_id, change_type (new_hire / promotion / departure), role,
-- is_champion, occurred_at.
-- This demo table keeps occurred_at as ISO 8601 text: esd reads it as it is; the cast
-- only serves the filter.
select account_id, change_type, role, is_champion, occurred_at
from stakeholder_changes
where cast(occurred_at as timestamp with time zone) >= :lookback_start
  and cast(occurred_at as timestamp with time zone) < :window_end
