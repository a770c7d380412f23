-- Stored events are never emptied: TRUNCATE is refused by the ledger's
-- money_refuse_truncate() (ledger 0014_tables_refuse_truncate).
CREATE TRIGGER processor_event_no_truncate BEFORE TRUNCATE ON processor_event
    FOR EACH STATEMENT EXECUTE FUNCTION money_refuse_truncate();
