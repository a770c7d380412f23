-- The processor's reports and their lines are its record of the money: never deleted (the lines' and
-- states' references rely on it: references.sql).
CREATE OR REPLACE FUNCTION reconciliation_refuse_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'DELETE on % refused: settlement reports and their lines are kept', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$;

DROP TRIGGER IF EXISTS reconciliation_settlementreport_kept ON reconciliation_settlementreport;
CREATE TRIGGER reconciliation_settlementreport_kept BEFORE DELETE ON reconciliation_settlementreport
    FOR EACH ROW EXECUTE FUNCTION reconciliation_refuse_delete();

DROP TRIGGER IF EXISTS reconciliation_settlementline_kept ON reconciliation_settlementline;
CREATE TRIGGER reconciliation_settlementline_kept BEFORE DELETE ON reconciliation_settlementline
    FOR EACH ROW EXECUTE FUNCTION reconciliation_refuse_delete();

-- Nothing of reconciliation is emptied with TRUNCATE, which fires no row trigger.
DROP TRIGGER IF EXISTS reconciliation_settlementreport_no_truncate ON reconciliation_settlementreport;
CREATE TRIGGER reconciliation_settlementreport_no_truncate BEFORE TRUNCATE ON reconciliation_settlementreport
    FOR EACH STATEMENT EXECUTE FUNCTION money_refuse_truncate();

DROP TRIGGER IF EXISTS reconciliation_reportcurrencytotal_no_truncate ON reconciliation_reportcurrencytotal;
CREATE TRIGGER reconciliation_reportcurrencytotal_no_truncate BEFORE TRUNCATE ON reconciliation_reportcurrencytotal
    FOR EACH STATEMENT EXECUTE FUNCTION money_refuse_truncate();

DROP TRIGGER IF EXISTS reconciliation_settlementline_no_truncate ON reconciliation_settlementline;
CREATE TRIGGER reconciliation_settlementline_no_truncate BEFORE TRUNCATE ON reconciliation_settlementline
    FOR EACH STATEMENT EXECUTE FUNCTION money_refuse_truncate();

DROP TRIGGER IF EXISTS reconciliation_reconciliationexception_no_truncate ON reconciliation_reconciliationexception;
CREATE TRIGGER reconciliation_reconciliationexception_no_truncate BEFORE TRUNCATE ON reconciliation_reconciliationexception
    FOR EACH STATEMENT EXECUTE FUNCTION money_refuse_truncate();

DROP TRIGGER IF EXISTS reconciliation_eventreconciliation_no_truncate ON reconciliation_eventreconciliation;
CREATE TRIGGER reconciliation_eventreconciliation_no_truncate BEFORE TRUNCATE ON reconciliation_eventreconciliation
    FOR EACH STATEMENT EXECUTE FUNCTION money_refuse_truncate();
