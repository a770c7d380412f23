DROP TRIGGER IF EXISTS ledger_adjustment_approval_posted ON ledger_adjustmentdecision;
DROP FUNCTION IF EXISTS ledger_check_approval_posted();
