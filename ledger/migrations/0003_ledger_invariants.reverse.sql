ALTER TABLE ledger_entry DROP CONSTRAINT IF EXISTS entry_currency_is_transaction_currency;
ALTER TABLE ledger_entry DROP CONSTRAINT IF EXISTS entry_currency_is_account_currency;
DROP TRIGGER IF EXISTS ledger_transaction_has_entries ON ledger_transaction;
DROP FUNCTION IF EXISTS ledger_check_transaction_has_entries();
DROP TRIGGER IF EXISTS ledger_entry_balanced ON ledger_entry;
DROP FUNCTION IF EXISTS ledger_check_transaction_balanced();
DROP TRIGGER IF EXISTS ledger_transaction_append_only ON ledger_transaction;
DROP TRIGGER IF EXISTS ledger_entry_append_only ON ledger_entry;
DROP FUNCTION IF EXISTS ledger_refuse_change();
