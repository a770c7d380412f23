-- Ledger rows are append-only: corrections are new reversing transactions. Entries, transactions and
-- accounts never change once written (so an entry's references cannot break afterwards), nor do
-- adjustment proposals and decisions.
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % refused: ledger rows are append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$;

DROP TRIGGER IF EXISTS ledger_entry_append_only ON ledger_entry;
CREATE TRIGGER ledger_entry_append_only
    BEFORE UPDATE OR DELETE ON ledger_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

DROP TRIGGER IF EXISTS ledger_transaction_append_only ON ledger_transaction;
CREATE TRIGGER ledger_transaction_append_only
    BEFORE UPDATE OR DELETE ON ledger_transaction
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

DROP TRIGGER IF EXISTS ledger_account_append_only ON ledger_account;
CREATE TRIGGER ledger_account_append_only
    BEFORE UPDATE OR DELETE ON ledger_account
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

DROP TRIGGER IF EXISTS ledger_adjustment_append_only ON ledger_adjustment;
CREATE TRIGGER ledger_adjustment_append_only
    BEFORE UPDATE OR DELETE ON ledger_adjustment
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

DROP TRIGGER IF EXISTS ledger_adjustmentdecision_append_only ON ledger_adjustmentdecision;
CREATE TRIGGER ledger_adjustmentdecision_append_only
    BEFORE UPDATE OR DELETE ON ledger_adjustmentdecision
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
