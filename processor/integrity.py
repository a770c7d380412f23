"""What `ledger_check` verifies of processor events: each stored event has exactly one ledger transaction (a
lost dispute none), its own or the settlement report's posting it confirms, each confirmation fits its event,
every dispute's postings match its events, and the balances' last_event_at. Registered with the ledger's
check in ProcessorConfig.ready, with the directory of the processor rules whose triggers must be present
and enabled."""

from pathlib import Path

from ledger.integrity import Check, ledger_checks_register

EVENT_CHECKS = [
    Check(
        "event_not_posted",
        "Every stored event has exactly one ledger transaction, its own or a report's it confirms (a lost "
        "dispute, none)",
        # Both joins find at most one row (ledger_transaction.event_id is unique, and so is a confirmation's
        # event), so the counts add up without multiplying.
        """SELECT ev.event_id, COUNT(t.id) AS transactions, COUNT(c.event_id) AS confirmed,
                  CASE WHEN ev.event_type = 'dispute_lost' THEN 0 ELSE 1 END AS expected
             FROM processor_event ev
             LEFT JOIN ledger_transaction t ON t.event_id = ev.id
             LEFT JOIN processor_payouteventconfirmation c ON c.event_id = ev.id
            GROUP BY ev.id, ev.event_id, ev.event_type
           HAVING COUNT(t.id) + COUNT(c.event_id)
                  <> CASE WHEN ev.event_type = 'dispute_lost' THEN 0 ELSE 1 END
            ORDER BY ev.event_id""",
        "has {transactions} ledger transactions of its own and confirms {confirmed}, not {expected} in all",
    ),
    Check(
        "payout_event_confirmations",
        "An event that confirms a posting is a payout event of the payout a report's line moved, as that line "
        "moved it, in its restaurant, currency and amount",
        """SELECT ev.event_id, ev.event_type, t.id AS posting, t.kind, t.payout_id
             FROM processor_payouteventconfirmation c
             JOIN processor_event ev ON ev.id = c.event_id
             JOIN ledger_transaction t ON t.id = c.ledger_transaction_id
             LEFT JOIN payouts_payout p ON p.id = t.payout_id
            WHERE t.event_id IS NOT NULL
               OR p.id IS NULL
               OR ev.payout_ref IS DISTINCT FROM t.payout_id
               OR NOT ((ev.event_type = 'payout_paid' AND t.kind = 'payout_paid')
                       OR (ev.event_type = 'payout_failed' AND t.kind IN ('payout_failed', 'payout_returned')))
               OR (ev.restaurant_id, ev.currency, ev.amount) IS DISTINCT FROM (p.restaurant_id, p.currency, p.amount)
            ORDER BY ev.event_id""",
        "({event_type}) confirms ledger transaction {posting} ({kind} of payout {payout_id}), which it "
        "does not fit",
    ),
    Check(
        "last_event_at",
        "Projected last_event_at = latest occurred_at of the restaurant's events in that currency",
        """SELECT b.restaurant_id, b.currency, b.last_event_at AS projected, latest.occurred_at AS from_events
             FROM ledger_restaurantbalance b
             LEFT JOIN (SELECT restaurant_id, currency, MAX(occurred_at) AS occurred_at
                          FROM processor_event GROUP BY restaurant_id, currency) latest
                    ON latest.restaurant_id = b.restaurant_id AND latest.currency = b.currency
            WHERE b.last_event_at IS DISTINCT FROM latest.occurred_at
            ORDER BY b.restaurant_id, b.currency""",
        "projected last_event_at {projected}, but its latest event occurred at {from_events}",
    ),
    Check(
        "dispute_postings",
        "Every dispute event's payable postings are its amount plus fee, and every dispute has its events",
        # Each part is computed once and joined by key: no subquery per event, whatever the statistics.
        """WITH dispute_events AS MATERIALIZED (
                SELECT id, event_id, event_type, amount, fee FROM processor_event
                 WHERE event_type IN ('dispute_opened', 'dispute_won', 'dispute_lost')
            ), posted AS MATERIALIZED (
                SELECT t.event_id,
                       SUM(CASE WHEN e.entry_type = 'dispute' THEN e.amount ELSE -e.amount END) AS owed_less
                  FROM ledger_transaction t
                  JOIN ledger_entry e ON e.transaction_id = t.id
                  JOIN ledger_account a ON a.id = e.account_id AND a.kind = 'restaurant_payable'
                 WHERE t.event_id IN (SELECT id FROM dispute_events)
                 GROUP BY t.event_id
            ), named AS MATERIALIZED (
                SELECT opened_event_id AS event_id, dispute_id FROM processor_dispute
                 UNION ALL
                SELECT decision_event_id, dispute_id FROM processor_dispute WHERE decision_event_id IS NOT NULL
            )
            SELECT ev.event_id, ev.event_type,
                   CASE WHEN ev.event_type = 'dispute_lost' THEN 0 ELSE ev.amount + ev.fee END AS expected,
                   COALESCE(posted.owed_less, 0) AS posted, named.dispute_id
              FROM dispute_events ev
              LEFT JOIN named ON named.event_id = ev.id
              LEFT JOIN posted ON posted.event_id = ev.id
             WHERE named.dispute_id IS NULL
                OR COALESCE(posted.owed_less, 0)
                   <> CASE WHEN ev.event_type = 'dispute_lost' THEN 0 ELSE ev.amount + ev.fee END
             ORDER BY ev.event_id""",
        "{event_type} of dispute {dispute_id}: payable postings {posted}, expected {expected} (or no dispute)",
    ),
]


def event_checks_register() -> None:
    ledger_checks_register(
        checks=EVENT_CHECKS,
        counted={"events": "SELECT COUNT(*) FROM processor_event"},
        counted_after="entries",
        rules_directory=Path(__file__).resolve().parent / "sql",
    )
