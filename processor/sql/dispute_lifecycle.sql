-- A dispute is opened by its dispute_opened event and decided once, by its dispute_won or dispute_lost
-- event: open -> won | lost, nothing else about it ever changes, and disputes are never deleted or
-- emptied. A second decision, even a concurrent one, finds the row already decided and cannot commit.
-- (The service checks the same rules first, to answer 422.)
CREATE OR REPLACE FUNCTION processor_dispute_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    cause record;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'DELETE on processor_dispute refused: disputes are permanent'
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'INSERT' THEN
        SELECT event_type, metadata ->> 'dispute_id' AS dispute_id, restaurant_id, currency, amount, fee,
               occurred_at
          INTO cause FROM processor_event WHERE id = NEW.opened_event_id;
        IF NEW.status <> 'open'
           OR cause.event_type IS DISTINCT FROM 'dispute_opened'
           OR cause.dispute_id IS DISTINCT FROM NEW.dispute_id
           OR cause.restaurant_id IS DISTINCT FROM NEW.restaurant_id
           OR cause.currency IS DISTINCT FROM NEW.currency
           OR cause.amount IS DISTINCT FROM NEW.amount
           OR cause.fee IS DISTINCT FROM NEW.fee
           OR cause.occurred_at IS DISTINCT FROM NEW.opened_at THEN
            RAISE EXCEPTION 'dispute % must be opened, as its dispute_opened event says', NEW.dispute_id
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.dispute_id IS DISTINCT FROM OLD.dispute_id
       OR NEW.payment_id IS DISTINCT FROM OLD.payment_id
       OR NEW.restaurant_id IS DISTINCT FROM OLD.restaurant_id
       OR NEW.currency IS DISTINCT FROM OLD.currency
       OR NEW.amount IS DISTINCT FROM OLD.amount
       OR NEW.fee IS DISTINCT FROM OLD.fee
       OR NEW.opened_at IS DISTINCT FROM OLD.opened_at
       OR NEW.opened_event_id IS DISTINCT FROM OLD.opened_event_id THEN
        RAISE EXCEPTION 'dispute %: its id, payment, restaurant, currency, amount, fee and opening are immutable',
            OLD.dispute_id USING ERRCODE = 'check_violation';
    END IF;
    IF OLD.status <> 'open' OR NEW.status NOT IN ('won', 'lost') THEN
        RAISE EXCEPTION 'dispute %: status % -> % is not allowed', OLD.dispute_id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation';
    END IF;
    SELECT event_type, metadata ->> 'dispute_id' AS dispute_id, restaurant_id, currency, occurred_at
      INTO cause FROM processor_event WHERE id = NEW.decision_event_id;
    IF cause.event_type IS DISTINCT FROM 'dispute_' || NEW.status
       OR cause.dispute_id IS DISTINCT FROM NEW.dispute_id
       OR cause.restaurant_id IS DISTINCT FROM NEW.restaurant_id
       OR cause.currency IS DISTINCT FROM NEW.currency
       OR cause.occurred_at IS DISTINCT FROM NEW.closed_at THEN
        RAISE EXCEPTION 'dispute % must be decided by its own dispute_% event', NEW.dispute_id, NEW.status
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS processor_dispute_guard ON processor_dispute;
CREATE TRIGGER processor_dispute_guard
    BEFORE INSERT OR UPDATE OR DELETE ON processor_dispute
    FOR EACH ROW EXECUTE FUNCTION processor_dispute_guard();

DROP TRIGGER IF EXISTS processor_dispute_no_truncate ON processor_dispute;
CREATE TRIGGER processor_dispute_no_truncate BEFORE TRUNCATE ON processor_dispute
    FOR EACH STATEMENT EXECUTE FUNCTION money_refuse_truncate();
