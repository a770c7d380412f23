-- An entry's account and transaction exist and are in the entry's currency, and an entry on a
-- restaurant's account belongs to a transaction of that restaurant (the balance projection moves the
-- transaction's restaurant, so a line on another restaurant's account would move the wrong balance).
-- Checked once per INSERT statement over the rows it inserted, instead of two composite foreign-key
-- checks per entry; the references cannot break afterwards, since entries, transactions and accounts
-- are append-only (append_only.sql).
-- The statement's rows are looked up in the growing tables by index, one by one, whatever the tables' size
-- when a session first planned this: a plan cached while they were nearly empty (a hash join over a
-- whole table) would otherwise read them whole at every statement, slower as they grow.
CREATE OR REPLACE FUNCTION ledger_check_entry_references() RETURNS trigger
LANGUAGE plpgsql
SET enable_hashjoin = off SET enable_mergejoin = off SET enable_seqscan = off
AS $$
DECLARE
    wrong record;
BEGIN
    -- One pass over the rows for all three rules; only when it finds a wrong row do the queries below
    -- find which rule it breaks (and the message), in the same order as ever.
    PERFORM FROM new_entries e
      LEFT JOIN ledger_account a ON a.id = e.account_id
      LEFT JOIN ledger_transaction t ON t.id = e.transaction_id
     WHERE a.currency IS DISTINCT FROM e.currency OR t.currency IS DISTINCT FROM e.currency
        OR (a.restaurant_id IS NOT NULL AND a.restaurant_id <> t.restaurant_id)
     LIMIT 1;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
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
    SELECT e.id, e.account_id, a.restaurant_id AS account_restaurant, t.restaurant_id AS transaction_restaurant
      INTO wrong
      FROM new_entries e
      JOIN ledger_account a ON a.id = e.account_id
      JOIN ledger_transaction t ON t.id = e.transaction_id
     WHERE a.restaurant_id IS NOT NULL AND a.restaurant_id <> t.restaurant_id
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'entry_account_is_transaction_restaurant: entry % names account % of %, in a transaction of %',
            wrong.id, wrong.account_id, wrong.account_restaurant, wrong.transaction_restaurant
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$;

-- Triggers of one event fire in name order: this one, before ledger_entry_balanced, so an entry
-- in the wrong currency is reported as such rather than as an unbalanced transaction.
DROP TRIGGER IF EXISTS ledger_entry_account_and_transaction ON ledger_entry;
CREATE TRIGGER ledger_entry_account_and_transaction
    AFTER INSERT ON ledger_entry
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_entry_references();
