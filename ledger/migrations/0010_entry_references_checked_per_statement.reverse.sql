ALTER TABLE ledger_entry
    ADD CONSTRAINT entry_currency_is_account_currency
    FOREIGN KEY (account_id, currency) REFERENCES ledger_account (id, currency);
ALTER TABLE ledger_entry
    ADD CONSTRAINT entry_currency_is_transaction_currency
    FOREIGN KEY (transaction_id, currency) REFERENCES ledger_transaction (id, currency);
DROP TRIGGER IF EXISTS ledger_entry_account_and_transaction ON ledger_entry;
DROP FUNCTION IF EXISTS ledger_check_entry_references();
DROP TRIGGER IF EXISTS ledger_account_append_only ON ledger_account;
