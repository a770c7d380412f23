-- A payout's money and identity never change; its status moves only along created -> paid -> failed or
-- created -> failed, and payouts are never deleted. (The services check the same rules first.)
CREATE OR REPLACE FUNCTION payouts_payout_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'DELETE on payouts_payout refused: payouts are permanent'
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.id IS DISTINCT FROM OLD.id
       OR NEW.amount IS DISTINCT FROM OLD.amount
       OR NEW.restaurant_id IS DISTINCT FROM OLD.restaurant_id
       OR NEW.currency IS DISTINCT FROM OLD.currency
       OR NEW.as_of IS DISTINCT FROM OLD.as_of
       OR NEW.run_id IS DISTINCT FROM OLD.run_id THEN
        RAISE EXCEPTION 'payout %: id, amount, restaurant, currency, as_of and run are immutable', OLD.id
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
           (OLD.status = 'created' AND NEW.status IN ('paid', 'failed'))
        OR (OLD.status = 'paid' AND NEW.status = 'failed')) THEN
        RAISE EXCEPTION 'payout %: status % -> % is not allowed', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS payouts_payout_guard ON payouts_payout;
CREATE TRIGGER payouts_payout_guard
    BEFORE UPDATE OR DELETE ON payouts_payout
    FOR EACH ROW EXECUTE FUNCTION payouts_payout_guard();
