DROP TRIGGER IF EXISTS payouts_payout_posting_matches ON ledger_transaction;
DROP FUNCTION IF EXISTS payouts_check_payout_posting();
DROP TRIGGER IF EXISTS payouts_payout_reserved ON payouts_payout;
DROP FUNCTION IF EXISTS payouts_check_payout_reserved();
