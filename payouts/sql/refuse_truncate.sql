-- Payout records are never emptied either: TRUNCATE is refused by the ledger's money_refuse_truncate()
-- (ledger/sql/refuse_truncate.sql).

DROP TRIGGER IF EXISTS payouts_payoutrun_no_truncate ON payouts_payoutrun;
CREATE TRIGGER payouts_payoutrun_no_truncate BEFORE TRUNCATE ON payouts_payoutrun
    FOR EACH STATEMENT EXECUTE FUNCTION money_refuse_truncate();

DROP TRIGGER IF EXISTS payouts_payout_no_truncate ON payouts_payout;
CREATE TRIGGER payouts_payout_no_truncate BEFORE TRUNCATE ON payouts_payout
    FOR EACH STATEMENT EXECUTE FUNCTION money_refuse_truncate();

DROP TRIGGER IF EXISTS payouts_payoutitem_no_truncate ON payouts_payoutitem;
CREATE TRIGGER payouts_payoutitem_no_truncate BEFORE TRUNCATE ON payouts_payoutitem
    FOR EACH STATEMENT EXECUTE FUNCTION money_refuse_truncate();

DROP TRIGGER IF EXISTS payouts_payoutsettlement_no_truncate ON payouts_payoutsettlement;
CREATE TRIGGER payouts_payoutsettlement_no_truncate BEFORE TRUNCATE ON payouts_payoutsettlement
    FOR EACH STATEMENT EXECUTE FUNCTION money_refuse_truncate();
