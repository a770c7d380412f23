-- Payout holds (SPEC §11). Holds, their releases and payout schedules are append-only facts (who and
-- when), refused UPDATE, DELETE and TRUNCATE like the ledger's. A release is by a second person: never
-- the hold's placer, and once (its primary key is the hold; the check below gives the clearer message).
-- payouts/services/holds.py checks both first.
--
-- ledger_restaurantbalance.payouts_held is kept equal to payouts_restaurant_held() here, by the app that
-- owns holds: the balance read then stays one row of the ledger's own table. A hold's or release's
-- restaurant takes a transaction advisory lock before it updates the restaurant's balance rows, and so
-- does a new balance row before it reads the holds: a row created while a hold commits sees that hold.
-- Under that lock the update also takes each balance row's lock, which a payout takes first (ledger
-- balance_lock): a payout either commits before the hold or sees it.
CREATE OR REPLACE FUNCTION payouts_restaurant_held(restaurant text, balance_currency text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT 1 FROM payouts_payouthold AS hold
         WHERE hold.restaurant_id = restaurant
           AND (hold.currency IS NULL OR hold.currency = balance_currency)
           AND NOT EXISTS (SELECT 1 FROM payouts_payoutholdrelease AS release WHERE release.hold_id = hold.id))
$$;

CREATE OR REPLACE FUNCTION payouts_hold_flags_refresh(restaurant text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('payouts_hold'), hashtext(restaurant));
    UPDATE ledger_restaurantbalance AS balance
       SET payouts_held = payouts_restaurant_held(restaurant, balance.currency)
     WHERE balance.restaurant_id = restaurant;
END;
$$;

CREATE OR REPLACE FUNCTION payouts_hold_placed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM payouts_hold_flags_refresh(NEW.restaurant_id);
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION payouts_hold_release_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    hold_restaurant text;
    placer integer;
BEGIN
    SELECT restaurant_id, placed_by_id INTO hold_restaurant, placer FROM payouts_payouthold WHERE id = NEW.hold_id;
    IF placer = NEW.released_by_id THEN
        RAISE EXCEPTION 'payout hold %: its placer (user %) cannot release it', NEW.hold_id, NEW.released_by_id
            USING ERRCODE = 'check_violation';
    END IF;
    IF EXISTS (SELECT 1 FROM payouts_payoutholdrelease WHERE hold_id = NEW.hold_id) THEN
        RAISE EXCEPTION 'payout hold %: already released', NEW.hold_id USING ERRCODE = 'unique_violation';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION payouts_hold_released() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM payouts_hold_flags_refresh((SELECT restaurant_id FROM payouts_payouthold WHERE id = NEW.hold_id));
    RETURN NULL;
END;
$$;

-- A balance row says what the holds say, whoever writes it: a new row (of a restaurant held in every
-- currency, say) starts held, and a write of the column can only write the truth.
CREATE OR REPLACE FUNCTION payouts_balance_hold_flag() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM pg_advisory_xact_lock(hashtext('payouts_hold'), hashtext(NEW.restaurant_id));
    END IF;
    NEW.payouts_held := payouts_restaurant_held(NEW.restaurant_id, NEW.currency);
    RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS payouts_hold_placed ON payouts_payouthold;
CREATE TRIGGER payouts_hold_placed
    AFTER INSERT ON payouts_payouthold
    FOR EACH ROW EXECUTE FUNCTION payouts_hold_placed();

DROP TRIGGER IF EXISTS payouts_hold_release_check ON payouts_payoutholdrelease;
CREATE TRIGGER payouts_hold_release_check
    BEFORE INSERT ON payouts_payoutholdrelease
    FOR EACH ROW EXECUTE FUNCTION payouts_hold_release_check();

DROP TRIGGER IF EXISTS payouts_hold_released ON payouts_payoutholdrelease;
CREATE TRIGGER payouts_hold_released
    AFTER INSERT ON payouts_payoutholdrelease
    FOR EACH ROW EXECUTE FUNCTION payouts_hold_released();

DROP TRIGGER IF EXISTS payouts_balance_hold_flag ON ledger_restaurantbalance;
CREATE TRIGGER payouts_balance_hold_flag
    BEFORE INSERT OR UPDATE OF payouts_held ON ledger_restaurantbalance
    FOR EACH ROW EXECUTE FUNCTION payouts_balance_hold_flag();

DROP TRIGGER IF EXISTS payouts_hold_append_only ON payouts_payouthold;
CREATE TRIGGER payouts_hold_append_only
    BEFORE UPDATE OR DELETE ON payouts_payouthold
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

DROP TRIGGER IF EXISTS payouts_holdrelease_append_only ON payouts_payoutholdrelease;
CREATE TRIGGER payouts_holdrelease_append_only
    BEFORE UPDATE OR DELETE ON payouts_payoutholdrelease
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

DROP TRIGGER IF EXISTS payouts_schedule_append_only ON payouts_payoutschedule;
CREATE TRIGGER payouts_schedule_append_only
    BEFORE UPDATE OR DELETE ON payouts_payoutschedule
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

DROP TRIGGER IF EXISTS payouts_payouthold_no_truncate ON payouts_payouthold;
CREATE TRIGGER payouts_payouthold_no_truncate BEFORE TRUNCATE ON payouts_payouthold
    FOR EACH STATEMENT EXECUTE FUNCTION money_refuse_truncate();

DROP TRIGGER IF EXISTS payouts_payoutholdrelease_no_truncate ON payouts_payoutholdrelease;
CREATE TRIGGER payouts_payoutholdrelease_no_truncate BEFORE TRUNCATE ON payouts_payoutholdrelease
    FOR EACH STATEMENT EXECUTE FUNCTION money_refuse_truncate();

DROP TRIGGER IF EXISTS payouts_payoutschedule_no_truncate ON payouts_payoutschedule;
CREATE TRIGGER payouts_payoutschedule_no_truncate BEFORE TRUNCATE ON payouts_payoutschedule
    FOR EACH STATEMENT EXECUTE FUNCTION money_refuse_truncate();
