-- Q2 · Top 10 restaurants by net revenue over the last 7 days, in one currency.
--
-- Parameters:
--   :currency  ISO 4217 code
--   :since     start of the window, exclusive (the command passes :until − 7 days)
--   :until     end of the window, inclusive (default: now)
--
-- Net revenue is what the restaurant keeps from the events that occurred in
-- the window: charges minus the processor's fees, minus refunds, plus fees the
-- processor returned. Read from the processor's facts (events), by occurred_at.
SELECT restaurant_id,
       currency,
       SUM(CASE WHEN event_type = 'charge_succeeded' THEN 1 ELSE 0 END)      AS charges,
       CAST(SUM(CASE WHEN event_type = 'charge_succeeded' THEN amount ELSE 0 END) AS BIGINT) AS gross_sales,
       CAST(SUM(CASE WHEN event_type = 'charge_succeeded' THEN fee ELSE 0 END) AS BIGINT)    AS fees,
       CAST(SUM(CASE WHEN event_type = 'refund_succeeded' THEN amount ELSE 0 END) AS BIGINT) AS refunds,
       CAST(SUM(CASE WHEN event_type = 'refund_succeeded' THEN fee ELSE 0 END) AS BIGINT)    AS fee_refunds,
       CAST(SUM(CASE WHEN event_type = 'charge_succeeded' THEN amount - fee
                     ELSE fee - amount END) AS BIGINT)                       AS net_revenue
  FROM processor_event
 WHERE currency = :currency
   AND event_type IN ('charge_succeeded', 'refund_succeeded')
   AND occurred_at > :since
   AND occurred_at <= :until
 GROUP BY restaurant_id, currency
 ORDER BY net_revenue DESC, restaurant_id
 LIMIT 10;
