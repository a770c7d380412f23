-- A payout event that posts nothing confirms the posting a settlement report's line made for its payout
-- (processor_payouteventconfirmation; processor/services.py). Checked at commit, when everything is there:
-- the event is a payout_paid (or payout_failed) of that payout, with the payout's restaurant, currency and
-- amount (as the service and ledger_check compare them);
-- the posting names no event and is the payout's payout_paid (payout_failed or payout_returned) posting;
-- the payout is paid (failed) now; and the event has no ledger transaction of its own, so it still has
-- exactly one. One event per posting is the table's unique key on ledger_transaction_id. Confirmations
-- never change, go away or are emptied. (The service checks the same first, to answer 422.)
CREATE OR REPLACE FUNCTION processor_check_payout_event_confirmation() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    confirmed record;
BEGIN
    SELECT ev.event_type, ev.payout_ref, ev.restaurant_id, ev.currency, ev.amount,
           t.kind, t.event_id AS posted_for_event, t.payout_id, p.restaurant_id AS payout_restaurant_id,
           p.currency AS payout_currency, p.amount AS payout_amount, p.status AS payout_status
      INTO confirmed
      FROM processor_event ev
      JOIN ledger_transaction t ON t.id = NEW.ledger_transaction_id
      LEFT JOIN payouts_payout p ON p.id = t.payout_id
     WHERE ev.id = NEW.event_id;
    IF NOT FOUND
       OR confirmed.posted_for_event IS NOT NULL
       OR confirmed.payout_id IS DISTINCT FROM confirmed.payout_ref
       OR confirmed.payout_status IS NULL
       OR NOT ((confirmed.event_type = 'payout_paid' AND confirmed.kind = 'payout_paid'
                AND confirmed.payout_status = 'paid')
            OR (confirmed.event_type = 'payout_failed' AND confirmed.kind IN ('payout_failed', 'payout_returned')
                AND confirmed.payout_status = 'failed'))
       OR confirmed.restaurant_id IS DISTINCT FROM confirmed.payout_restaurant_id
       OR confirmed.currency IS DISTINCT FROM confirmed.payout_currency
       OR confirmed.amount IS DISTINCT FROM confirmed.payout_amount THEN
        RAISE EXCEPTION 'event % cannot confirm ledger transaction %: only a payout event of the payout that transaction moved, as the report set it, in its restaurant, currency and amount',
            NEW.event_id, NEW.ledger_transaction_id
            USING ERRCODE = 'check_violation';
    END IF;
    IF EXISTS (SELECT 1 FROM ledger_transaction WHERE event_id = NEW.event_id) THEN
        RAISE EXCEPTION 'event % confirms ledger transaction % but has a ledger transaction of its own',
            NEW.event_id, NEW.ledger_transaction_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS processor_payout_event_confirmation_valid ON processor_payouteventconfirmation;
CREATE CONSTRAINT TRIGGER processor_payout_event_confirmation_valid
    AFTER INSERT ON processor_payouteventconfirmation
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION processor_check_payout_event_confirmation();

DROP TRIGGER IF EXISTS processor_payout_event_confirmation_immutable ON processor_payouteventconfirmation;
CREATE TRIGGER processor_payout_event_confirmation_immutable
    BEFORE UPDATE OR DELETE ON processor_payouteventconfirmation
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();  -- ledger/sql/append_only.sql: permanent, as ledger rows

DROP TRIGGER IF EXISTS processor_payouteventconfirmation_no_truncate ON processor_payouteventconfirmation;
CREATE TRIGGER processor_payouteventconfirmation_no_truncate BEFORE TRUNCATE ON processor_payouteventconfirmation
    FOR EACH STATEMENT EXECUTE FUNCTION money_refuse_truncate();
