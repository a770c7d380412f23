-- Processor events are facts: once stored they never change or disappear.
CREATE OR REPLACE FUNCTION processor_event_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on processor_event refused: events are immutable', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;

DROP TRIGGER IF EXISTS processor_event_immutable ON processor_event;
CREATE TRIGGER processor_event_immutable
    BEFORE UPDATE OR DELETE ON processor_event
    FOR EACH ROW EXECUTE FUNCTION processor_event_refuse_change();
