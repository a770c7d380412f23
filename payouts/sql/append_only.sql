-- A payout's items and settlements are append-only, refused by the ledger's own ledger_refuse_change()
-- (ledger/sql/append_only.sql).
DROP TRIGGER IF EXISTS payouts_item_append_only ON payouts_payoutitem;
CREATE TRIGGER payouts_item_append_only
    BEFORE UPDATE OR DELETE ON payouts_payoutitem
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

DROP TRIGGER IF EXISTS payouts_settlement_append_only ON payouts_payoutsettlement;
CREATE TRIGGER payouts_settlement_append_only
    BEFORE UPDATE OR DELETE ON payouts_payoutsettlement
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
