DROP TRIGGER IF EXISTS processor_event_no_truncate ON processor_event;
