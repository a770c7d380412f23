DROP TRIGGER IF EXISTS processor_event_immutable ON processor_event;
DROP FUNCTION IF EXISTS processor_event_refuse_change();
