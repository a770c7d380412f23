-- A report's lines name a stored report, and an event's reconciliation state names a stored event and
-- (when it has one) a stored line. Checked once per statement over the rows it wrote, where a foreign
-- key would look up one key per row: a million-line report writes a million lines and a million states
-- (docs/decisions.md). Reports, lines and events are never deleted (records_kept.sql and
-- processor/sql/event_immutable.sql), so what exists once stays.
CREATE OR REPLACE FUNCTION reconciliation_lines_name_reports() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM (SELECT DISTINCT report_id FROM written) AS named
                WHERE NOT EXISTS (SELECT 1 FROM reconciliation_settlementreport AS report
                                   WHERE report.report_id = named.report_id)) THEN
        RAISE EXCEPTION 'a settlement line names no stored settlement report'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS reconciliation_lines_name_reports ON reconciliation_settlementline;
CREATE TRIGGER reconciliation_lines_name_reports
    AFTER INSERT ON reconciliation_settlementline REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION reconciliation_lines_name_reports();

-- A line stays in its report (the matching's updates never name report_id, so this fires for none of them).
CREATE OR REPLACE FUNCTION reconciliation_line_report_fixed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.report_id IS DISTINCT FROM OLD.report_id THEN
        RAISE EXCEPTION 'a settlement line never moves to another report'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS reconciliation_line_report_fixed ON reconciliation_settlementline;
CREATE TRIGGER reconciliation_line_report_fixed
    BEFORE UPDATE OF report_id ON reconciliation_settlementline
    FOR EACH ROW EXECUTE FUNCTION reconciliation_line_report_fixed();

CREATE OR REPLACE FUNCTION reconciliation_states_name_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM written AS state
                WHERE NOT EXISTS (SELECT 1 FROM processor_event AS event WHERE event.id = state.event_id)
                   OR (state.line_id IS NOT NULL
                       AND NOT EXISTS (SELECT 1 FROM reconciliation_settlementline AS line
                                        WHERE line.id = state.line_id))) THEN
        RAISE EXCEPTION 'an event reconciliation state names no stored event or settlement line'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$;

-- A transition table serves one kind of statement per trigger: one for inserts, one for updates
-- (an INSERT … ON CONFLICT DO UPDATE fires both, each with its own rows).
DROP TRIGGER IF EXISTS reconciliation_inserted_states_name_events ON reconciliation_eventreconciliation;
CREATE TRIGGER reconciliation_inserted_states_name_events
    AFTER INSERT ON reconciliation_eventreconciliation REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION reconciliation_states_name_events();

DROP TRIGGER IF EXISTS reconciliation_updated_states_name_events ON reconciliation_eventreconciliation;
CREATE TRIGGER reconciliation_updated_states_name_events
    AFTER UPDATE ON reconciliation_eventreconciliation REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION reconciliation_states_name_events();
