-- Manual adjustments with four-eyes approval, held by PostgreSQL itself (ledger/services/adjustments.py
-- checks the same rules first, for a clear message).

-- 1. Proposals and decisions are append-only, refused by ledger_refuse_change() (0003_ledger_invariants).
CREATE TRIGGER ledger_adjustment_append_only
    BEFORE UPDATE OR DELETE ON ledger_adjustment
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

CREATE TRIGGER ledger_adjustmentdecision_append_only
    BEFORE UPDATE OR DELETE ON ledger_adjustmentdecision
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

-- 2. Four eyes: whoever proposed an adjustment cannot decide it. (One decision per adjustment is
--    its primary key, adjustment_id.)
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

CREATE TRIGGER ledger_adjustment_four_eyes
    BEFORE INSERT ON ledger_adjustmentdecision
    FOR EACH ROW EXECUTE FUNCTION ledger_check_adjustment_four_eyes();

-- 3. Only an approved adjustment is posted, in its own restaurant and currency (one transaction
--    at most: ledger_transaction.adjustment_id is unique).
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

CREATE TRIGGER ledger_adjustment_posting_check
    BEFORE INSERT ON ledger_transaction
    FOR EACH ROW WHEN (NEW.adjustment_id IS NOT NULL)
    EXECUTE FUNCTION ledger_check_adjustment_posting();

-- 4. An adjustment's transaction moves the restaurant's payable by exactly its amount
--    (restaurant-facing: the payable entries sum to −amount), checked at commit, when its
--    entries are there.
CREATE OR REPLACE FUNCTION ledger_check_adjustment_amount() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    expected bigint;
    posted bigint;
BEGIN
    SELECT amount INTO expected FROM ledger_adjustment WHERE id = NEW.adjustment_id;
    SELECT COALESCE(-SUM(e.amount), 0) INTO posted
      FROM ledger_entry e
      JOIN ledger_account a ON a.id = e.account_id AND a.kind = 'restaurant_payable'
     WHERE e.transaction_id = NEW.id;
    IF posted IS DISTINCT FROM expected THEN
        RAISE EXCEPTION 'ledger transaction % posts % for adjustment % of %', NEW.id, posted, NEW.adjustment_id, expected
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER ledger_adjustment_amount_posted
    AFTER INSERT ON ledger_transaction
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.adjustment_id IS NOT NULL)
    EXECUTE FUNCTION ledger_check_adjustment_amount();
