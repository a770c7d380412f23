-- Q3 · Payout eligibility for a currency, a business date and a minimum amount.
--
-- Parameters:
--   :currency    ISO 4217 code
--   :as_of       the business date (a restaurant has at most one payout per currency and as_of)
--   :cutoff      the end of :as_of in TIME_ZONE, exclusive (the next local midnight)
--   :now         the moment of the reading
--   :min_amount  the smallest payout, minor units
--
-- The payout rule (SPEC §5, payouts.selectors.payable_amounts, which a payout run reads):
--   amount = min(available now, available as of the cutoff),
-- both figures from the ledger's balance rule, ledger_payable_balance (ledger/sql/balance.sql):
--   available now          = projected payable − what has not matured at :now (pending);
--   available as of cutoff = charges matured by the cutoff, refunds, fee returns and approved
--                            adjustments effective by it (and already effective at :now), and every
--                            earlier payout that has not failed.
-- decision: 'already_paid' when a payout exists for (restaurant, currency, as_of); else 'eligible'
-- when amount > 0 and ≥ :min_amount; otherwise 'below_minimum' (as a run decides).
WITH amounts AS (
    SELECT b.restaurant_id,
           b.currency,
           f.available AS available_now,
           f.available_at_cutoff,
           LEAST(f.available, f.available_at_cutoff) AS amount
      FROM ledger_restaurantbalance b
     CROSS JOIN LATERAL ledger_payable_balance(b.restaurant_id, b.currency, b.payable, :now, :cutoff) f
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
