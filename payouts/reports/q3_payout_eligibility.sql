-- Q3 · Payout eligibility for a currency, a business date and a minimum amount.
--
-- Parameters:
--   :currency    ISO 4217 code
--   :as_of       the business date (a restaurant has at most one payout per currency and as_of)
--   :cutoff      the end of :as_of in TIME_ZONE, exclusive (the next local midnight)
--   :now         the moment of the reading
--   :min_amount  the smallest payout, minor units
--
-- The payout rule (payouts.services): amount = min(available now, available as of the cutoff), where
--   available now            = projected payable − entries not yet effective (pending);
--   available as of cutoff   = −Σ payable entries that are a charge's gross/fee, a refund, a fee
--                              return or an approved adjustment effective before the cutoff (and
--                              already effective now),
--                              plus every payout posting (earlier payouts, failures, returns).
-- decision: 'eligible' when amount > 0 and ≥ :min_amount and no payout exists yet for
-- (restaurant, currency, as_of); 'already_paid' when one does; otherwise 'below_minimum'.
WITH figures AS (
    SELECT a.restaurant_id,
           CAST(-COALESCE(SUM(CASE WHEN e.effective_at > :now THEN e.amount ELSE 0 END), 0) AS BIGINT) AS pending,
           CAST(-COALESCE(SUM(CASE WHEN (e.entry_type IN ('gross', 'fee', 'refund', 'fee_refund', 'adjustment')
                                    AND e.effective_at < :cutoff AND e.effective_at <= :now)
                                OR e.entry_type = 'payout'
                              THEN e.amount ELSE 0 END), 0) AS BIGINT) AS available_at_cutoff
      FROM ledger_account a
      LEFT JOIN ledger_entry e ON e.account_id = a.id
     WHERE a.kind = 'restaurant_payable' AND a.currency = :currency
     GROUP BY a.restaurant_id
), amounts AS (
    SELECT b.restaurant_id,
           b.currency,
           b.payable - f.pending AS available_now,
           f.available_at_cutoff,
           CASE WHEN b.payable - f.pending < f.available_at_cutoff THEN b.payable - f.pending
                ELSE f.available_at_cutoff END AS amount
      FROM ledger_restaurantbalance b
      JOIN figures f ON f.restaurant_id = b.restaurant_id
     WHERE b.currency = :currency
)
SELECT m.restaurant_id,
       m.currency,
       m.available_now,
       m.available_at_cutoff,
       m.amount,
       CASE WHEN p.id IS NOT NULL THEN 'already_paid'
            WHEN m.amount > 0 AND m.amount >= :min_amount THEN 'eligible'
            ELSE 'below_minimum' END AS decision,
       p.id AS payout_id
  FROM amounts m
  LEFT JOIN payouts_payout p ON p.restaurant_id = m.restaurant_id AND p.currency = m.currency
                            AND p.as_of = :as_of
 ORDER BY m.restaurant_id;
