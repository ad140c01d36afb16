-- esd reads accounts from this query (esd.toml [warehouse] accounts; contract §2).
-- Return one row per account, with these columns (names as here, any order):
--   id            text     the CRM account id (Salesforce's, where you have it)
--   name          text
--   arr           number   dollars
--   segment       text     matches a `Segment:` of references/2-segment-baseline-config.md
--   tier          text     the current SKU tier
--   owner_email   text     the CSM who gets the digest
--   renewal_date  date     (or YYYY-MM-DD text)
--   owner_name    text     optional
-- Point the FROM at your own table (e.g. analytics.dim_accounts). This example reads
-- the CSV beside it with DuckDB (ESD_WAREHOUSE_URL=duckdb:///:memory:).
select id,
       name,
       cast(arr as double) as arr,
       segment,
       tier,
       owner_email,
       owner_name,
       cast(renewal_date as date) as renewal_date
from read_csv('warehouse/data/accounts.csv', header = true, all_varchar = true)
