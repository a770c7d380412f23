-- Payout records are never emptied either: TRUNCATE is refused by the ledger's
-- money_refuse_truncate() (ledger 0014_tables_refuse_truncate).
CREATE TRIGGER payouts_payoutrun_no_truncate BEFORE TRUNCATE ON payouts_payoutrun
    FOR EACH STATEMENT EXECUTE FUNCTION money_refuse_truncate();
CREATE TRIGGER payouts_payout_no_truncate BEFORE TRUNCATE ON payouts_payout
    FOR EACH STATEMENT EXECUTE FUNCTION money_refuse_truncate();
CREATE TRIGGER payouts_payoutitem_no_truncate BEFORE TRUNCATE ON payouts_payoutitem
    FOR EACH STATEMENT EXECUTE FUNCTION money_refuse_truncate();
CREATE TRIGGER payouts_payoutsettlement_no_truncate BEFORE TRUNCATE ON payouts_payoutsettlement
    FOR EACH STATEMENT EXECUTE FUNCTION money_refuse_truncate();
