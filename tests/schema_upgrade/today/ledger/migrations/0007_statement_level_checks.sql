-- Balanced transactions, checked once per INSERT statement instead of once per entry.
--
-- The ledger writes a transaction's entries in one statement (ledger/services/posting.py),
-- so the check can run when that statement ends, over the rows it inserted (its transition
-- table): per transaction, at least two entries that sum to zero. A later statement that adds
-- entries to an existing transaction is held to the same rule, so a balanced transaction can
-- never become unbalanced.
-- A transaction with no entries at all is still refused at commit (ledger_transaction_has_entries).
DROP TRIGGER IF EXISTS ledger_entry_balanced ON ledger_entry;
DROP FUNCTION IF EXISTS ledger_check_transaction_balanced();

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

CREATE TRIGGER ledger_entry_balanced
    AFTER INSERT ON ledger_entry
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_transactions_balanced();

-- Open entries: every payable entry (other than a payout's own) that no payout has settled.
INSERT INTO ledger_openentry (entry_id, account_id, effective_at)
SELECT e.id, e.account_id, e.effective_at
  FROM ledger_entry e
  JOIN ledger_account a ON a.id = e.account_id AND a.kind = 'restaurant_payable'
 WHERE e.entry_type <> 'payout'
   AND NOT EXISTS (SELECT 1 FROM payouts_payoutsettlement s WHERE s.entry_id = e.id);
