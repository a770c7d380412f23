-- An entry's account and transaction exist and are in the entry's currency, checked once per
-- INSERT statement over the rows it inserted, instead of two composite foreign-key checks per
-- entry. The references cannot break afterwards: entries and transactions are append-only
-- already, and accounts become so here (an account never changes once created).
CREATE TRIGGER ledger_account_append_only
    BEFORE UPDATE OR DELETE ON ledger_account
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

CREATE OR REPLACE FUNCTION ledger_check_entry_references() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    wrong record;
BEGIN
    SELECT e.id, e.currency, e.account_id, a.currency AS found_currency INTO wrong
      FROM new_entries e
      LEFT JOIN ledger_account a ON a.id = e.account_id
     WHERE a.currency IS DISTINCT FROM e.currency
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'entry_currency_is_account_currency: entry % in % names account % (%)',
            wrong.id, wrong.currency, wrong.account_id, COALESCE(wrong.found_currency, 'missing')
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    SELECT e.id, e.currency, e.transaction_id, t.currency AS found_currency INTO wrong
      FROM new_entries e
      LEFT JOIN ledger_transaction t ON t.id = e.transaction_id
     WHERE t.currency IS DISTINCT FROM e.currency
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'entry_currency_is_transaction_currency: entry % in % names transaction % (%)',
            wrong.id, wrong.currency, wrong.transaction_id, COALESCE(wrong.found_currency, 'missing')
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$;

-- Triggers of one event fire in name order: this one, before ledger_entry_balanced, so an entry
-- in the wrong currency is reported as such rather than as an unbalanced transaction.
CREATE TRIGGER ledger_entry_account_and_transaction
    AFTER INSERT ON ledger_entry
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_entry_references();

ALTER TABLE ledger_entry DROP CONSTRAINT entry_currency_is_account_currency;
ALTER TABLE ledger_entry DROP CONSTRAINT entry_currency_is_transaction_currency;
