DROP TRIGGER IF EXISTS payouts_settlement_check ON payouts_payoutsettlement;
DROP FUNCTION IF EXISTS payouts_check_settlement();
DROP TRIGGER IF EXISTS payouts_item_items_sum ON payouts_payoutitem;
DROP TRIGGER IF EXISTS payouts_payout_items_sum ON payouts_payout;
DROP FUNCTION IF EXISTS payouts_check_items_sum();
DROP TRIGGER IF EXISTS payouts_settlement_append_only ON payouts_payoutsettlement;
DROP TRIGGER IF EXISTS payouts_item_append_only ON payouts_payoutitem;
DROP TRIGGER IF EXISTS payouts_payout_guard ON payouts_payout;
DROP FUNCTION IF EXISTS payouts_payout_guard();
