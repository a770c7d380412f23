-- Every transaction has at least two entries that sum to zero per currency, checked once per INSERT
-- statement over the rows it inserted (its transition table).
--
-- The ledger writes a transaction's entries in one statement (ledger/services/posting.py). A later
-- statement that adds entries to an existing transaction is held to the same rule, so a balanced
-- transaction can never become unbalanced. A transaction with no entries at all is refused at commit
-- (transaction_has_entries.sql).
CREATE OR REPLACE FUNCTION ledger_check_transactions_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    wrong record;
BEGIN
    -- Only the statement's own rows are read: every transaction balanced before it (this
    -- rule held), so it balances after it exactly when the entries the statement added do.
    SELECT transaction_id, currency, COUNT(*) AS entries, SUM(amount) AS total INTO wrong
      FROM new_entries
     GROUP BY transaction_id, currency
    HAVING COUNT(*) < 2 OR SUM(amount) <> 0
     LIMIT 1;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF wrong.entries < 2 THEN
        RAISE EXCEPTION 'ledger transaction % has fewer than two entries', wrong.transaction_id
            USING ERRCODE = 'check_violation';
    END IF;
    RAISE EXCEPTION 'ledger transaction % does not balance: % entries sum to %',
        wrong.transaction_id, wrong.currency, wrong.total
        USING ERRCODE = 'check_violation';
END;
$$;

DROP TRIGGER IF EXISTS ledger_entry_balanced ON ledger_entry;
CREATE TRIGGER ledger_entry_balanced
    AFTER INSERT ON ledger_entry
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_transactions_balanced();
