-- A ledger transaction that names an event (ledger_transaction.event_id, a plain id: the ledger names no
-- processor table) names a stored one. Checked once per INSERT statement over the transactions it
-- inserted, as the ledger writes a batch in one statement; the event is always stored first. Events are
-- never deleted (event_immutable.sql), so the reference holds once written. One transaction per event is
-- the ledger's unique ledger_transaction.event_id, and none for an event that confirms a settlement
-- report's posting instead (payout_event_confirmation.sql refuses the other order).
-- Looked up by index whatever the plan cache saw first (why: ledger/sql/entry_references.sql).
CREATE OR REPLACE FUNCTION processor_check_transaction_event() RETURNS trigger
LANGUAGE plpgsql
SET enable_hashjoin = off SET enable_mergejoin = off SET enable_seqscan = off
AS $$
DECLARE
    wrong record;
BEGIN
    SELECT t.id, t.event_id INTO wrong
      FROM new_transactions t
     WHERE t.event_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM processor_event e WHERE e.id = t.event_id)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % names event %, which is not stored', wrong.id, wrong.event_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    -- An event that confirms a report's posting (payout_event_confirmation.sql) has its transaction already.
    SELECT t.id, t.event_id INTO wrong
      FROM new_transactions t
     WHERE t.event_id IS NOT NULL
       AND EXISTS (SELECT 1 FROM processor_payouteventconfirmation c WHERE c.event_id = t.event_id)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % names event %, which confirms another posting', wrong.id, wrong.event_id
            USING ERRCODE = 'unique_violation';
    END IF;
    RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS processor_transaction_event_exists ON ledger_transaction;
CREATE TRIGGER processor_transaction_event_exists
    AFTER INSERT ON ledger_transaction
    REFERENCING NEW TABLE AS new_transactions
    FOR EACH STATEMENT EXECUTE FUNCTION processor_check_transaction_event();
