-- Invariants of payouts, held by PostgreSQL itself (the services check the same rules first).

-- 1. A payout's money and identity never change; its status moves only along
--    created -> paid -> failed or created -> failed, and payouts are never deleted.
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

CREATE TRIGGER payouts_payout_guard
    BEFORE UPDATE OR DELETE ON payouts_payout
    FOR EACH ROW EXECUTE FUNCTION payouts_payout_guard();

-- 2. Items and settlements are append-only, refused by the ledger's own
--    ledger_refuse_change() (ledger 0003_ledger_invariants).
CREATE TRIGGER payouts_item_append_only
    BEFORE UPDATE OR DELETE ON payouts_payoutitem
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

CREATE TRIGGER payouts_settlement_append_only
    BEFORE UPDATE OR DELETE ON payouts_payoutsettlement
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

-- 3. A payout's items sum exactly to its amount, checked at commit so that the
--    payout and its items can be inserted one after the other.
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

CREATE CONSTRAINT TRIGGER payouts_payout_items_sum
    AFTER INSERT OR UPDATE ON payouts_payout
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION payouts_check_items_sum();

CREATE CONSTRAINT TRIGGER payouts_item_items_sum
    AFTER INSERT OR UPDATE OR DELETE ON payouts_payoutitem
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION payouts_check_items_sum();

-- 4. A payout settles only its own restaurant's payable entries of a charge,
--    refund or fee return, in its currency.
CREATE OR REPLACE FUNCTION payouts_check_settlement() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    settled record;
BEGIN
    SELECT e.entry_type, e.currency AS entry_currency, a.kind, a.restaurant_id AS account_restaurant_id,
           p.restaurant_id AS payout_restaurant_id, p.currency AS payout_currency
      INTO settled
      FROM ledger_entry e
      JOIN ledger_account a ON a.id = e.account_id
      JOIN payouts_payout p ON p.id = NEW.payout_id
     WHERE e.id = NEW.entry_id;
    IF NOT FOUND
       OR settled.kind <> 'restaurant_payable'
       OR settled.entry_type NOT IN ('gross', 'fee', 'refund', 'fee_refund')
       OR settled.account_restaurant_id IS DISTINCT FROM settled.payout_restaurant_id
       OR settled.entry_currency <> settled.payout_currency THEN
        RAISE EXCEPTION 'payout % cannot settle entry %: only its restaurant''s payable charge, refund and fee entries in its currency',
            NEW.payout_id, NEW.entry_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER payouts_settlement_check
    BEFORE INSERT ON payouts_payoutsettlement
    FOR EACH ROW EXECUTE FUNCTION payouts_check_settlement();
