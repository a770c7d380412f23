-- A ledger transaction that names a payout (ledger_transaction.payout_id, a plain id: the ledger names no
-- payouts table) names one that exists, in the payout's restaurant and currency, and each of its entries
-- is a `payout` entry of exactly ± the payout's amount. Checked at commit, when the payout and the
-- transaction's entries are both there. Payouts are never deleted (payout_guard.sql), so the reference
-- holds once committed.
CREATE OR REPLACE FUNCTION payouts_check_payout_posting() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    payout record;
    wrong record;
BEGIN
    SELECT amount, restaurant_id, currency INTO payout FROM payouts_payout WHERE id = NEW.payout_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'ledger transaction % names payout %, which does not exist', NEW.id, NEW.payout_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF payout.restaurant_id IS DISTINCT FROM NEW.restaurant_id OR payout.currency IS DISTINCT FROM NEW.currency THEN
        RAISE EXCEPTION 'ledger transaction % of payout % is not in the payout''s restaurant and currency',
            NEW.id, NEW.payout_id USING ERRCODE = 'check_violation';
    END IF;
    SELECT id, entry_type, amount INTO wrong FROM ledger_entry
     WHERE transaction_id = NEW.id AND (entry_type <> 'payout' OR abs(amount) <> payout.amount)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % of payout % of % has entry % (% %)',
            NEW.id, NEW.payout_id, payout.amount, wrong.id, wrong.entry_type, wrong.amount
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS payouts_payout_posting_matches ON ledger_transaction;
CREATE CONSTRAINT TRIGGER payouts_payout_posting_matches
    AFTER INSERT ON ledger_transaction
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.payout_id IS NOT NULL)
    EXECUTE FUNCTION payouts_check_payout_posting();
