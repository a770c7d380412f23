-- Q1 · Balances of every restaurant in one currency.
--
-- Parameters:
--   :currency  ISO 4217 code, e.g. 'PEN'
--   :now       the moment of the reading; payable entries effective after it are pending
--
-- available and pending come from the ledger's balance rule, ledger_payable_balance
-- (ledger/sql/balance.sql), as the balance API's do:
--   available = projected payable − pending (may be negative: the restaurant owes us);
--   pending   = not yet matured (only the not-yet-effective entries are read);
-- reserved  = in payouts created but not yet settled (the projection).
-- Figures are restaurant-facing minor units: positive means we owe the restaurant.
SELECT b.restaurant_id,
       b.currency,
       f.available,
       f.pending,
       b.reserved,
       b.last_event_at
  FROM ledger_restaurantbalance b
 CROSS JOIN LATERAL ledger_payable_balance(b.restaurant_id, b.currency, b.payable, :now) f
 WHERE b.currency = :currency
 ORDER BY b.restaurant_id;
