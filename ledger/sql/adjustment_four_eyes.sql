-- Four eyes: whoever proposed an adjustment cannot decide it. (One decision per adjustment is the
-- decision's primary key, adjustment_id.) ledger/services/adjustments.py checks it first, for a clear message.
CREATE OR REPLACE FUNCTION ledger_check_adjustment_four_eyes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM ledger_adjustment
                WHERE id = NEW.adjustment_id AND proposed_by_id = NEW.decided_by_id) THEN
        RAISE EXCEPTION 'adjustment %: its proposer (user %) cannot decide it', NEW.adjustment_id, NEW.decided_by_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS ledger_adjustment_four_eyes ON ledger_adjustmentdecision;
CREATE TRIGGER ledger_adjustment_four_eyes
    BEFORE INSERT ON ledger_adjustmentdecision
    FOR EACH ROW EXECUTE FUNCTION ledger_check_adjustment_four_eyes();
