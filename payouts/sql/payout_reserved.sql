-- A payout has its payout_reserve transaction, checked at commit (creating a payout moves its amount from
-- payable to reserved in the same transaction).
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

DROP TRIGGER IF EXISTS payouts_payout_reserved ON payouts_payout;
CREATE CONSTRAINT TRIGGER payouts_payout_reserved
    AFTER INSERT ON payouts_payout
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION payouts_check_payout_reserved();
