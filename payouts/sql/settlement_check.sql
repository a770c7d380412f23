-- A payout settles only its own restaurant's payable entries of a charge, refund, fee return, approved
-- adjustment or dispute, in its currency; the payout and every entry it names exist. Checked once per
-- statement over the rows it wrote (a payout writes its settlements in one statement, hundreds of rows),
-- where a check and two foreign keys per row cost more than the rest of the payout together. Entries
-- and payouts are never deleted (ledger/sql/append_only.sql, payout_guard.sql), so what exists once stays.
-- Looked up by index whatever the plan cache saw first (why: ledger/sql/entry_references.sql).
CREATE OR REPLACE FUNCTION payouts_check_settlement() RETURNS trigger
LANGUAGE plpgsql
SET enable_hashjoin = off SET enable_mergejoin = off SET enable_seqscan = off
AS $$
DECLARE
    wrong record;
BEGIN
    SELECT written.payout_id, written.entry_id INTO wrong
      FROM settled AS written
      LEFT JOIN payouts_payout AS payout ON payout.id = written.payout_id
      LEFT JOIN ledger_entry AS entry ON entry.id = written.entry_id
      LEFT JOIN ledger_account AS account ON account.id = entry.account_id
     WHERE payout.id IS NULL
        OR account.id IS NULL
        OR account.kind <> 'restaurant_payable'
        OR entry.entry_type NOT IN ('gross', 'fee', 'refund', 'fee_refund', 'adjustment', 'dispute',
                                    'dispute_reversal')
        OR account.restaurant_id IS DISTINCT FROM payout.restaurant_id
        OR entry.currency <> payout.currency
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'payout % cannot settle entry %: only its restaurant''s payable charge, refund, fee, adjustment and dispute entries in its currency',
            wrong.payout_id, wrong.entry_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS payouts_settlement_check ON payouts_payoutsettlement;
CREATE TRIGGER payouts_settlement_check
    AFTER INSERT ON payouts_payoutsettlement REFERENCING NEW TABLE AS settled
    FOR EACH STATEMENT EXECUTE FUNCTION payouts_check_settlement();
