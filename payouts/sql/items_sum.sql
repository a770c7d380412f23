-- A payout's items sum exactly to its amount, checked at commit so that the payout and its items can be
-- inserted one after the other.
CREATE OR REPLACE FUNCTION payouts_check_items_sum() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    checked_payout_id varchar;
    payout_amount bigint;
    items_total bigint;
BEGIN
    IF TG_TABLE_NAME = 'payouts_payout' THEN
        checked_payout_id := NEW.id;
    ELSIF TG_OP = 'DELETE' THEN
        checked_payout_id := OLD.payout_id;
    ELSE
        checked_payout_id := NEW.payout_id;
    END IF;
    SELECT amount INTO payout_amount FROM payouts_payout WHERE id = checked_payout_id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT COALESCE(SUM(amount), 0) INTO items_total FROM payouts_payoutitem WHERE payout_id = checked_payout_id;
    IF items_total <> payout_amount THEN
        RAISE EXCEPTION 'payout % items sum to %, not its amount %', checked_payout_id, items_total, payout_amount
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS payouts_payout_items_sum ON payouts_payout;
CREATE CONSTRAINT TRIGGER payouts_payout_items_sum
    AFTER INSERT OR UPDATE ON payouts_payout
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION payouts_check_items_sum();

DROP TRIGGER IF EXISTS payouts_item_items_sum ON payouts_payoutitem;
CREATE CONSTRAINT TRIGGER payouts_item_items_sum
    AFTER INSERT OR UPDATE OR DELETE ON payouts_payoutitem
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION payouts_check_items_sum();
