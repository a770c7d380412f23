-- The audit trail is append-only: a row says who did what, and nobody may rewrite or remove it.
-- UPDATE and DELETE are refused row by row; TRUNCATE, which fires no row trigger, by its own trigger.
-- (Between transactional tests the test runner empties the table with session_replication_role =
-- replica, as it does the money tables; see ledger/sql/refuse_truncate.sql.)
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % refused: the audit trail is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$;

DROP TRIGGER IF EXISTS audit_auditevent_append_only ON audit_auditevent;
CREATE TRIGGER audit_auditevent_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();

DROP TRIGGER IF EXISTS audit_auditevent_refuse_truncate ON audit_auditevent;
CREATE TRIGGER audit_auditevent_refuse_truncate BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
