-- A payout settles only its own restaurant's payable entries of a charge, refund, fee return, approved
-- adjustment or dispute, in its currency.
CREATE OR REPLACE FUNCTION payouts_check_settlement() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    settled record;
BEGIN
    SELECT e.entry_type, e.currency AS entry_currency, a.kind, a.restaurant_id AS account_restaurant_id,
           p.restaurant_id AS payout_restaurant_id, p.currency AS payout_currency
      INTO settled
      FROM ledger_entry e
      JOIN ledger_account a ON a.id = e.account_id
      JOIN payouts_payout p ON p.id = NEW.payout_id
     WHERE e.id = NEW.entry_id;
    IF NOT FOUND
       OR settled.kind <> 'restaurant_payable'
       OR settled.entry_type NOT IN ('gross', 'fee', 'refund', 'fee_refund', 'adjustment',
                                     'dispute', 'dispute_reversal')
       OR settled.account_restaurant_id IS DISTINCT FROM settled.payout_restaurant_id
       OR settled.entry_currency <> settled.payout_currency THEN
        RAISE EXCEPTION 'payout % cannot settle entry %: only its restaurant''s payable charge, refund, fee, adjustment and dispute entries in its currency',
            NEW.payout_id, NEW.entry_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS payouts_settlement_check ON payouts_payoutsettlement;
CREATE TRIGGER payouts_settlement_check
    BEFORE INSERT ON payouts_payoutsettlement
    FOR EACH ROW EXECUTE FUNCTION payouts_check_settlement();
