-- Only an approved adjustment is posted, in its own restaurant and currency (one transaction at most:
-- ledger_transaction.adjustment_id is unique).
CREATE OR REPLACE FUNCTION ledger_check_adjustment_posting() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    proposal record;
BEGIN
    SELECT a.restaurant_id, a.currency, d.decision INTO proposal
      FROM ledger_adjustment a
      LEFT JOIN ledger_adjustmentdecision d ON d.adjustment_id = a.id
     WHERE a.id = NEW.adjustment_id;
    IF NOT FOUND OR proposal.decision IS DISTINCT FROM 'approved'
       OR proposal.restaurant_id <> NEW.restaurant_id OR proposal.currency <> NEW.currency THEN
        RAISE EXCEPTION 'ledger transaction % cannot post adjustment %: only an approved adjustment, in its own restaurant and currency',
            NEW.id, NEW.adjustment_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS ledger_adjustment_posting_check ON ledger_transaction;
CREATE TRIGGER ledger_adjustment_posting_check
    BEFORE INSERT ON ledger_transaction
    FOR EACH ROW WHEN (NEW.adjustment_id IS NOT NULL)
    EXECUTE FUNCTION ledger_check_adjustment_posting();
