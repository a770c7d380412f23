-- Q4 · Integrity: what finance must look at. One row per finding.
--
-- Parameters:
--   :now  the moment of the reading (for balances)
--
-- Columns: problem, restaurant_id, currency, reference, amount, detail.
--   duplicate_event        the same event_id stored twice (the unique index forbids it)
--   duplicate_charge       one payment_id charged by several events (amount = total charged)
--   unbalanced_transaction a transaction whose entries do not sum to zero (amount = the sum)
--   refund_exceeds_charge  refunds of a payment_id above what was charged (amount = the excess)
--   refund_unknown_payment a refund whose payment_id was never charged to that restaurant
--                          and currency (amount = the refund)
--   negative_balance       a restaurant whose available balance is below zero (amount = available,
--                          by the ledger's balance rule, ledger_payable_balance in ledger/sql/balance.sql)
--   payout_items_mismatch  a payout whose items do not sum to its amount (amount = amount − items)
--   dispute_unknown_payment a dispute whose payment_id was never charged to that restaurant and
--                          currency (amount = the disputed amount; reference = the payment_id)
WITH charges AS (
    SELECT restaurant_id, currency, payment_id, COUNT(*) AS events, CAST(SUM(amount) AS BIGINT) AS charged
      FROM processor_event
     WHERE event_type = 'charge_succeeded' AND payment_id IS NOT NULL
     GROUP BY restaurant_id, currency, payment_id
), refunds AS (
    SELECT restaurant_id, currency, payment_id, COUNT(*) AS events, CAST(SUM(amount) AS BIGINT) AS refunded
      FROM processor_event
     WHERE event_type = 'refund_succeeded'
     GROUP BY restaurant_id, currency, payment_id
), findings AS (
    SELECT 'duplicate_event' AS problem, MIN(restaurant_id) AS restaurant_id, MIN(currency) AS currency,
           event_id AS reference, COUNT(*) AS amount,
           'event_id stored ' || COUNT(*) || ' times' AS detail
      FROM processor_event
     GROUP BY event_id
    HAVING COUNT(*) > 1
    UNION ALL
    SELECT 'duplicate_charge', restaurant_id, currency, payment_id, charged,
           'payment charged by ' || events || ' events'
      FROM charges
     WHERE events > 1
    UNION ALL
    SELECT 'unbalanced_transaction', t.restaurant_id, e.currency, CAST(t.id AS TEXT), CAST(SUM(e.amount) AS BIGINT),
           'entries sum to ' || SUM(e.amount) || ', not 0'
      FROM ledger_entry e
      JOIN ledger_transaction t ON t.id = e.transaction_id
     GROUP BY t.id, t.restaurant_id, e.currency
    HAVING SUM(e.amount) <> 0
    UNION ALL
    SELECT 'refund_exceeds_charge', r.restaurant_id, r.currency, r.payment_id, r.refunded - c.charged,
           'refunded ' || r.refunded || ' of ' || c.charged || ' charged'
      FROM refunds r
      JOIN charges c ON c.restaurant_id = r.restaurant_id AND c.currency = r.currency
                    AND c.payment_id = r.payment_id
     WHERE r.refunded > c.charged
    UNION ALL
    SELECT 'refund_unknown_payment', r.restaurant_id, r.currency, COALESCE(r.payment_id, '(none)'), r.refunded,
           r.events || ' refund(s) of a payment never charged'
      FROM refunds r
      LEFT JOIN charges c ON c.restaurant_id = r.restaurant_id AND c.currency = r.currency
                         AND c.payment_id = r.payment_id
     WHERE c.payment_id IS NULL
    UNION ALL
    SELECT 'negative_balance', b.restaurant_id, b.currency, b.restaurant_id, f.available,
           'available ' || f.available || ': the restaurant owes us'
      FROM ledger_restaurantbalance b
     CROSS JOIN LATERAL ledger_payable_balance(b.restaurant_id, b.currency, b.payable, :now) f
     WHERE f.available < 0
    UNION ALL
    SELECT 'payout_items_mismatch', p.restaurant_id, p.currency, p.id, CAST(p.amount - COALESCE(SUM(i.amount), 0) AS BIGINT),
           'items sum to ' || COALESCE(SUM(i.amount), 0) || ', amount is ' || p.amount
      FROM payouts_payout p
      LEFT JOIN payouts_payoutitem i ON i.payout_id = p.id
     GROUP BY p.id, p.restaurant_id, p.currency, p.amount
    HAVING p.amount <> COALESCE(SUM(i.amount), 0)
    UNION ALL
    SELECT 'dispute_unknown_payment', d.restaurant_id, d.currency, d.payment_id, d.amount,
           'dispute ' || d.dispute_id || ' (' || d.status || ') of a payment never charged'
      FROM processor_dispute d
      LEFT JOIN charges c ON c.restaurant_id = d.restaurant_id AND c.currency = d.currency
                         AND c.payment_id = d.payment_id
     WHERE c.payment_id IS NULL
)
SELECT problem, restaurant_id, currency, reference, amount, detail
  FROM findings
 ORDER BY problem, restaurant_id, currency, reference;
