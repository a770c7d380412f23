"""What `ledger_check` verifies of payouts: each payout against its postings, items and settlements.

Registered with the ledger's check (ledger.integrity.ledger_checks_register) in PayoutsConfig.ready, with
the directory of the payouts rules whose triggers must be present and enabled.
"""

from pathlib import Path

from ledger.integrity import Check, ledger_checks_register

from .models import PayoutStatus

CREATED, PAID, FAILED = PayoutStatus.CREATED.value, PayoutStatus.PAID.value, PayoutStatus.FAILED.value

PAYOUT_CHECKS = [
    Check(
        "payout_postings",
        "A payout's postings match its status",
        f"""SELECT p.id AS payout_id, p.status,
                  SUM(CASE WHEN t.kind = 'payout_reserve' THEN 1 ELSE 0 END) AS reserve,
                  SUM(CASE WHEN t.kind = 'payout_paid' THEN 1 ELSE 0 END) AS paid,
                  SUM(CASE WHEN t.kind = 'payout_failed' THEN 1 ELSE 0 END) AS failed,
                  SUM(CASE WHEN t.kind = 'payout_returned' THEN 1 ELSE 0 END) AS returned
             FROM payouts_payout p LEFT JOIN ledger_transaction t ON t.payout_id = p.id
            GROUP BY p.id, p.status
           HAVING NOT (
                  SUM(CASE WHEN t.kind = 'payout_reserve' THEN 1 ELSE 0 END) = 1
              AND CASE p.status
                  WHEN '{CREATED}' THEN SUM(CASE WHEN t.kind <> 'payout_reserve' THEN 1 ELSE 0 END) = 0
                  WHEN '{PAID}' THEN SUM(CASE WHEN t.kind = 'payout_paid' THEN 1 ELSE 0 END) = 1
                               AND SUM(CASE WHEN t.kind IN ('payout_failed', 'payout_returned') THEN 1 ELSE 0 END) = 0
                  WHEN '{FAILED}' THEN (SUM(CASE WHEN t.kind = 'payout_failed' THEN 1 ELSE 0 END) = 1
                                      AND SUM(CASE WHEN t.kind IN ('payout_paid', 'payout_returned')
                                                   THEN 1 ELSE 0 END) = 0)
                                  OR (SUM(CASE WHEN t.kind = 'payout_failed' THEN 1 ELSE 0 END) = 0
                                      AND SUM(CASE WHEN t.kind = 'payout_paid' THEN 1 ELSE 0 END) = 1
                                      AND SUM(CASE WHEN t.kind = 'payout_returned' THEN 1 ELSE 0 END) = 1)
                  ELSE FALSE END)
            ORDER BY p.id""",
        "is {status} but has postings reserve×{reserve}, paid×{paid}, failed×{failed}, "
        "returned×{returned}",
    ),

    Check(
        "reserved_open_payouts",
        "Projected reserved = sum of the restaurant's open (created) payouts",
        f"""SELECT b.restaurant_id, b.currency, b.reserved AS projected, COALESCE(open.total, 0) AS open_payouts
             FROM ledger_restaurantbalance b
             LEFT JOIN (SELECT restaurant_id, currency, SUM(amount) AS total
                          FROM payouts_payout WHERE status = '{CREATED}'
                         GROUP BY restaurant_id, currency) open
                    ON open.restaurant_id = b.restaurant_id AND open.currency = b.currency
            WHERE b.reserved <> COALESCE(open.total, 0)
            ORDER BY b.restaurant_id, b.currency""",
        "reserved {projected}, but its created payouts total {open_payouts}",
    ),
    Check(
        "payout_items_sum",
        "A payout's items sum exactly to its amount",
        """SELECT p.id AS payout_id, p.amount, COALESCE(SUM(i.amount), 0) AS items
             FROM payouts_payout p LEFT JOIN payouts_payoutitem i ON i.payout_id = p.id
            GROUP BY p.id, p.amount HAVING p.amount <> COALESCE(SUM(i.amount), 0)
            ORDER BY p.id""",
        "of {amount} has items summing to {items}",
    ),
    Check(
        "entry_settled_twice",
        "Each payable entry is settled by at most one payout",
        """SELECT entry_id, COUNT(*) AS payouts
             FROM payouts_payoutsettlement GROUP BY entry_id HAVING COUNT(*) > 1 ORDER BY entry_id""",
        "is settled by {payouts} payouts",
    ),
    Check(
        "open_entries",
        "Open entries are exactly the payable entries no payout has settled",
        """SELECT e.id AS entry_id,
                  CASE WHEN o.entry_id IS NULL THEN 'not settled, yet missing from the open entries'
                       ELSE 'settled, yet still open' END AS state
             FROM ledger_entry e
             JOIN ledger_account a ON a.id = e.account_id AND a.kind = 'restaurant_payable'
             LEFT JOIN ledger_openentry o ON o.entry_id = e.id
             LEFT JOIN payouts_payoutsettlement s ON s.entry_id = e.id
            WHERE e.entry_type <> 'payout' AND (o.entry_id IS NULL) = (s.entry_id IS NULL)
           UNION ALL
           SELECT o.entry_id, 'open, but not a payable entry of its account and time'
             FROM ledger_openentry o
             JOIN ledger_entry e ON e.id = o.entry_id
             JOIN ledger_account a ON a.id = e.account_id
            WHERE a.kind <> 'restaurant_payable' OR e.entry_type = 'payout' OR o.account_id <> e.account_id
               OR o.effective_at <> e.effective_at
            ORDER BY 1""",
        "is {state}",
    ),
]


def payout_checks_register() -> None:
    ledger_checks_register(
        checks=PAYOUT_CHECKS,
        counted={"payouts": "SELECT COUNT(*) FROM payouts_payout"},
        rules_directory=Path(__file__).resolve().parent / "sql",
    )
