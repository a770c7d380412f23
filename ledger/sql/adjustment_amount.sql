-- An adjustment's transaction moves the restaurant's payable by exactly its amount (restaurant-facing:
-- the payable entries sum to −amount), checked at commit, when its entries are there.
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

DROP TRIGGER IF EXISTS ledger_adjustment_amount_posted ON ledger_transaction;
CREATE CONSTRAINT TRIGGER ledger_adjustment_amount_posted
    AFTER INSERT ON ledger_transaction
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.adjustment_id IS NOT NULL)
    EXECUTE FUNCTION ledger_check_adjustment_amount();
