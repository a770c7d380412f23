-- A payout and its ledger postings agree, checked at commit (when both are there):
-- 1. a payout has its payout_reserve transaction (creating one moves its amount from payable to
--    reserved in the same transaction);
-- 2. every transaction of a payout is the payout's restaurant and currency, and each of its
--    entries is a `payout` entry of exactly ± the payout's amount.
CREATE OR REPLACE FUNCTION payouts_check_payout_reserved() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM ledger_transaction
                    WHERE payout_id = NEW.id AND kind = 'payout_reserve') THEN
        RAISE EXCEPTION 'payout % has no payout_reserve transaction', NEW.id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER payouts_payout_reserved
    AFTER INSERT ON payouts_payout
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION payouts_check_payout_reserved();

CREATE OR REPLACE FUNCTION payouts_check_payout_posting() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    payout record;
    wrong record;
BEGIN
    SELECT amount, restaurant_id, currency INTO payout FROM payouts_payout WHERE id = NEW.payout_id;
    IF payout.restaurant_id IS DISTINCT FROM NEW.restaurant_id OR payout.currency IS DISTINCT FROM NEW.currency THEN
        RAISE EXCEPTION 'ledger transaction % of payout % is not in the payout''s restaurant and currency',
            NEW.id, NEW.payout_id USING ERRCODE = 'check_violation';
    END IF;
    SELECT id, entry_type, amount INTO wrong FROM ledger_entry
     WHERE transaction_id = NEW.id AND (entry_type <> 'payout' OR abs(amount) <> payout.amount)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % of payout % of % has entry % (% %)',
            NEW.id, NEW.payout_id, payout.amount, wrong.id, wrong.entry_type, wrong.amount
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER payouts_payout_posting_matches
    AFTER INSERT ON ledger_transaction
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.payout_id IS NOT NULL)
    EXECUTE FUNCTION payouts_check_payout_posting();
