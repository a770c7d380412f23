-- An open entry names a stored entry: what its foreign key held, checked once per INSERT or UPDATE
-- statement over the rows it wrote instead of once per row (a batch opens about one entry per event).
-- The reference cannot break afterwards: entries are append-only (append_only.sql). Checked at the end
-- of the statement, so the posting statement's entries are there.
-- Looked up by index whatever the plan cache saw first (why: ledger/sql/entry_references.sql).
CREATE OR REPLACE FUNCTION ledger_check_open_entry_references() RETURNS trigger
LANGUAGE plpgsql
SET enable_hashjoin = off SET enable_mergejoin = off SET enable_seqscan = off
AS $$
DECLARE
    wrong record;
BEGIN
    SELECT o.entry_id INTO wrong
      FROM new_open_entries o
     WHERE NOT EXISTS (SELECT 1 FROM ledger_entry e WHERE e.id = o.entry_id)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'open entry names entry %, which is not stored', wrong.entry_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS ledger_openentry_entry_inserted ON ledger_openentry;
CREATE TRIGGER ledger_openentry_entry_inserted
    AFTER INSERT ON ledger_openentry
    REFERENCING NEW TABLE AS new_open_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_open_entry_references();

DROP TRIGGER IF EXISTS ledger_openentry_entry_updated ON ledger_openentry;
CREATE TRIGGER ledger_openentry_entry_updated
    AFTER UPDATE ON ledger_openentry
    REFERENCING NEW TABLE AS new_open_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_open_entry_references();
