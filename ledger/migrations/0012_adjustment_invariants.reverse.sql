DROP TRIGGER IF EXISTS ledger_adjustment_amount_posted ON ledger_transaction;
DROP FUNCTION IF EXISTS ledger_check_adjustment_amount();
DROP TRIGGER IF EXISTS ledger_adjustment_posting_check ON ledger_transaction;
DROP FUNCTION IF EXISTS ledger_check_adjustment_posting();
DROP TRIGGER IF EXISTS ledger_adjustment_four_eyes ON ledger_adjustmentdecision;
DROP FUNCTION IF EXISTS ledger_check_adjustment_four_eyes();
DROP TRIGGER IF EXISTS ledger_adjustmentdecision_append_only ON ledger_adjustmentdecision;
DROP TRIGGER IF EXISTS ledger_adjustment_append_only ON ledger_adjustment;
