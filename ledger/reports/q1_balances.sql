-- Q1 · Balances of every restaurant in one currency.
--
-- Parameters:
--   :currency  ISO 4217 code, e.g. 'PEN'
--   :now       the moment of the reading; payable entries effective after it are pending
--
-- available = projected payable − pending (may be negative: the restaurant owes us);
-- pending   = charges not yet matured (only the not-yet-effective entries are read);
-- reserved  = in payouts created but not yet settled.
-- Figures are restaurant-facing minor units: positive means we owe the restaurant.
SELECT b.restaurant_id,
       b.currency,
       b.payable - COALESCE(p.pending, 0) AS available,
       COALESCE(p.pending, 0)             AS pending,
       b.reserved,
       b.last_event_at
  FROM ledger_restaurantbalance b
  LEFT JOIN (
        SELECT a.restaurant_id, CAST(-SUM(e.amount) AS BIGINT) AS pending
          FROM ledger_entry e
          JOIN ledger_account a ON a.id = e.account_id
         WHERE a.kind = 'restaurant_payable'
           AND a.currency = :currency
           AND e.effective_at > :now
         GROUP BY a.restaurant_id
       ) p ON p.restaurant_id = b.restaurant_id
 WHERE b.currency = :currency
 ORDER BY b.restaurant_id;
