"""What `ledger_check` verifies of processor events: each stored event posted once, and the balances'
last_event_at. Registered with the ledger's check in ProcessorConfig.ready, with the directory of the
processor rules whose triggers must be present and enabled."""

from pathlib import Path

from ledger.integrity import Check, ledger_checks_register

EVENT_CHECKS = [
    Check(
        "event_not_posted",
        "Every stored event has exactly one ledger transaction",
        """SELECT ev.event_id, COUNT(t.id) AS transactions
             FROM processor_event ev LEFT JOIN ledger_transaction t ON t.event_id = ev.id
            GROUP BY ev.id, ev.event_id HAVING COUNT(t.id) <> 1 ORDER BY ev.event_id""",
        "has {transactions} ledger transactions, not 1",
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

]


def event_checks_register() -> None:
    ledger_checks_register(
        checks=EVENT_CHECKS,
        counted={"events": "SELECT COUNT(*) FROM processor_event"},
        counted_after="entries",
        rules_directory=Path(__file__).resolve().parent / "sql",
    )
