DROP TRIGGER IF EXISTS payouts_payoutrun_no_truncate ON payouts_payoutrun;
DROP TRIGGER IF EXISTS payouts_payout_no_truncate ON payouts_payout;
DROP TRIGGER IF EXISTS payouts_payoutitem_no_truncate ON payouts_payoutitem;
DROP TRIGGER IF EXISTS payouts_payoutsettlement_no_truncate ON payouts_payoutsettlement;
