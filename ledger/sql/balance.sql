-- The balance rule: a restaurant's pending, available and available-as-of-a-cutoff balance in one
-- currency, defined here once. Every reader calls it: the balance API and its fast path
-- (ledger/selectors.py), the admin and the dashboard (ledger/admin_selectors.py, through
-- ledger/balance_rule.py for the ORM), payout eligibility (payouts/selectors.py) and reports Q1, Q3
-- and Q4. ledger_check (ledger/integrity.py) recomputes balances independently, as an audit.
--
-- Figures are restaurant-facing minor units (positive: we owe the restaurant). The payable account
-- is credit-normal, so what an entry adds to the balance is minus its amount.
--   restaurant_key, currency_code  whose payable account
--   payable    the balance projection's payable (every payable entry, matured or not)
--   moment     the reading: entries effective after it have not matured yet
--   cutoff     a payout's cutoff, exclusive (the end of its as_of); NULL when not asked
-- Returns one row, or none when the restaurant has no payable account in the currency:
--   pending             = the payable entries effective after `moment` (charges not yet matured)
--   available           = payable − pending (may be negative: the restaurant owes us)
--   available_at_cutoff = payable − the entries the cutoff does not count: every entry but a payout
--                         posting that is effective at or after the cutoff, or not yet at `moment`.
--                         Payout postings (reserve, failure, return) always count: every earlier
--                         payout that has not failed. NULL without a cutoff.
--
-- Only the entries effective since the earlier of `moment` and `cutoff` are read (a range of the
-- covering (account, effective_at) index), never the account's history. A set-returning SQL
-- function, STABLE and not STRICT, called in FROM: PostgreSQL inlines it into the caller's
-- statement and plans it as if written there (no function call at run time).
-- 'restaurant_payable' is AccountKind.RESTAURANT_PAYABLE, 'payout' EntryType.PAYOUT (ledger/models.py;
-- tests/ledger/test_balance_rule.py holds them equal).
CREATE OR REPLACE FUNCTION ledger_payable_balance(
    restaurant_key text, currency_code text, payable bigint, moment timestamptz, cutoff timestamptz DEFAULT NULL
) RETURNS TABLE (pending bigint, available bigint, available_at_cutoff bigint)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
SELECT later.pending AS pending,
       payable - later.pending AS available,
       CASE WHEN cutoff IS NOT NULL THEN payable - later.not_counted_at_cutoff END AS available_at_cutoff
  FROM ledger_account AS account
 CROSS JOIN LATERAL (
       SELECT COALESCE(-SUM(entry.amount) FILTER (WHERE entry.effective_at > moment), 0)::bigint AS pending,
              COALESCE(-SUM(entry.amount) FILTER (WHERE entry.entry_type <> 'payout'
                                                    AND (entry.effective_at >= cutoff OR entry.effective_at > moment)),
                       0)::bigint AS not_counted_at_cutoff
         FROM ledger_entry AS entry
        WHERE entry.account_id = account.id AND entry.effective_at >= LEAST(cutoff, moment)
       ) AS later
 WHERE account.restaurant_id = restaurant_key AND account.currency = currency_code
   AND account.kind = 'restaurant_payable'
$$;
