-- Stored events are never emptied: TRUNCATE is refused by the ledger's money_refuse_truncate()
-- (ledger/sql/refuse_truncate.sql).
DROP TRIGGER IF EXISTS processor_event_no_truncate ON processor_event;
CREATE TRIGGER processor_event_no_truncate BEFORE TRUNCATE ON processor_event
    FOR EACH STATEMENT EXECUTE FUNCTION money_refuse_truncate();
