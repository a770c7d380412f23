-- The marks of events recorded from a settlement report are money records, never emptied: TRUNCATE is
-- refused by the ledger's money_refuse_truncate() (ledger/sql/refuse_truncate.sql).
DROP TRIGGER IF EXISTS processor_eventfromreport_no_truncate ON processor_eventfromreport;
CREATE TRIGGER processor_eventfromreport_no_truncate BEFORE TRUNCATE ON processor_eventfromreport
    FOR EACH STATEMENT EXECUTE FUNCTION money_refuse_truncate();
