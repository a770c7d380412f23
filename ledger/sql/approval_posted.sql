-- An approved adjustment has its ledger transaction: checked at commit, so the approval and its posting
-- go in together or not at all (adjustment_posting.sql and adjustment_amount.sql hold the converse).
CREATE OR REPLACE FUNCTION ledger_check_approval_posted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM ledger_transaction WHERE adjustment_id = NEW.adjustment_id) THEN
        RAISE EXCEPTION 'adjustment % approved without its ledger transaction', NEW.adjustment_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS ledger_adjustment_approval_posted ON ledger_adjustmentdecision;
CREATE CONSTRAINT TRIGGER ledger_adjustment_approval_posted
    AFTER INSERT ON ledger_adjustmentdecision
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.decision = 'approved')
    EXECUTE FUNCTION ledger_check_approval_posted();
