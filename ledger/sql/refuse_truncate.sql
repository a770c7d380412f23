-- No money table can be emptied with TRUNCATE, which fires no row triggers and
-- so would get past the append-only rules (append_only.sql). `manage.py flush`
-- is refused too. A superuser can still empty them in a session with
-- session_replication_role = replica, under which no ordinary trigger fires:
-- the test runner does that between tests (tests/testrunner/management/commands/flush.py);
-- the service's own role should be neither a superuser nor the tables' owner.
CREATE OR REPLACE FUNCTION money_refuse_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'TRUNCATE on % refused: money records are never emptied', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$;

DROP TRIGGER IF EXISTS ledger_restaurant_no_truncate ON ledger_restaurant;
CREATE TRIGGER ledger_restaurant_no_truncate BEFORE TRUNCATE ON ledger_restaurant
    FOR EACH STATEMENT EXECUTE FUNCTION money_refuse_truncate();

DROP TRIGGER IF EXISTS ledger_account_no_truncate ON ledger_account;
CREATE TRIGGER ledger_account_no_truncate BEFORE TRUNCATE ON ledger_account
    FOR EACH STATEMENT EXECUTE FUNCTION money_refuse_truncate();

DROP TRIGGER IF EXISTS ledger_transaction_no_truncate ON ledger_transaction;
CREATE TRIGGER ledger_transaction_no_truncate BEFORE TRUNCATE ON ledger_transaction
    FOR EACH STATEMENT EXECUTE FUNCTION money_refuse_truncate();

DROP TRIGGER IF EXISTS ledger_entry_no_truncate ON ledger_entry;
CREATE TRIGGER ledger_entry_no_truncate BEFORE TRUNCATE ON ledger_entry
    FOR EACH STATEMENT EXECUTE FUNCTION money_refuse_truncate();

DROP TRIGGER IF EXISTS ledger_openentry_no_truncate ON ledger_openentry;
CREATE TRIGGER ledger_openentry_no_truncate BEFORE TRUNCATE ON ledger_openentry
    FOR EACH STATEMENT EXECUTE FUNCTION money_refuse_truncate();

DROP TRIGGER IF EXISTS ledger_restaurantbalance_no_truncate ON ledger_restaurantbalance;
CREATE TRIGGER ledger_restaurantbalance_no_truncate BEFORE TRUNCATE ON ledger_restaurantbalance
    FOR EACH STATEMENT EXECUTE FUNCTION money_refuse_truncate();

DROP TRIGGER IF EXISTS ledger_ledgercheckresult_no_truncate ON ledger_ledgercheckresult;
CREATE TRIGGER ledger_ledgercheckresult_no_truncate BEFORE TRUNCATE ON ledger_ledgercheckresult
    FOR EACH STATEMENT EXECUTE FUNCTION money_refuse_truncate();

DROP TRIGGER IF EXISTS ledger_adjustment_no_truncate ON ledger_adjustment;
CREATE TRIGGER ledger_adjustment_no_truncate BEFORE TRUNCATE ON ledger_adjustment
    FOR EACH STATEMENT EXECUTE FUNCTION money_refuse_truncate();

DROP TRIGGER IF EXISTS ledger_adjustmentdecision_no_truncate ON ledger_adjustmentdecision;
CREATE TRIGGER ledger_adjustmentdecision_no_truncate BEFORE TRUNCATE ON ledger_adjustmentdecision
    FOR EACH STATEMENT EXECUTE FUNCTION money_refuse_truncate();
