-- Every account: one row per CRM account id (contract §2, accounts.json).
-- Columns: id, name, arr, segment, tier, owner_email, renewal_date; optional owner_name.
select id, name, arr, segment, tier, owner_email, owner_name, renewal_date
from accounts
