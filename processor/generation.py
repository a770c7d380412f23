"""Deterministic processor events: the curated sample dataset and large synthetic files.

Both produce the JSON lines the processor would send (charge_succeeded and
refund_succeeded), in minor units, with fees of 3–5 %, every timestamp in the
past. The same seed always gives the same bytes.
"""

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

CURRENCY_RANGES = {  # typical reservation deposits, in minor units
    "PEN": (5_000, 40_000),
    "USD": (1_500, 12_000),
    "MXN": (20_000, 150_000),
}

SAMPLE_START = datetime(2025, 10, 1, 12, 0, tzinfo=UTC)
SAMPLE_END = datetime(2025, 12, 31, 23, 0, tzinfo=UTC)

# Which currencies each sample restaurant sells in (three of them in two).
SAMPLE_RESTAURANTS = {
    "res_001": ["PEN"],
    "res_002": ["PEN"],
    "res_003": ["PEN", "USD"],
    "res_004": ["PEN"],
    "res_005": ["PEN"],
    "res_006": ["USD"],
    "res_007": ["USD"],
    "res_008": ["USD", "MXN"],
    "res_009": ["MXN"],
    "res_010": ["MXN"],
    "res_011": ["MXN", "PEN"],
    "res_012": ["USD"],  # ends up owing us: a refund larger than its charges
}


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _fee(rng: random.Random, amount: int) -> int:
    return amount * rng.randint(300, 500) // 10_000


def _charge(event_id, restaurant_id, currency, amount, fee, occurred_at, payment_id, reservation_id) -> dict:
    return {
        "event_id": event_id,
        "event_type": "charge_succeeded",
        "occurred_at": _iso(occurred_at),
        "restaurant_id": restaurant_id,
        "currency": currency,
        "amount": amount,
        "fee": fee,
        "metadata": {"reservation_id": reservation_id, "payment_id": payment_id},
    }


def _refund(event_id, restaurant_id, currency, amount, fee, occurred_at, payment_id) -> dict:
    return {
        "event_id": event_id,
        "event_type": "refund_succeeded",
        "occurred_at": _iso(occurred_at),
        "restaurant_id": restaurant_id,
        "currency": currency,
        "amount": amount,
        "fee": fee,
        "metadata": {"payment_id": payment_id},
    }


def sample_events(seed: int = 247) -> list[dict]:
    """The curated sample: the lines of events/sample.jsonl, in file order."""
    rng = random.Random(seed)
    span = int((SAMPLE_END - SAMPLE_START).total_seconds())
    events = []
    charges = []
    restaurants = [r for r in SAMPLE_RESTAURANTS if r != "res_012"]
    for n in range(1, 931):
        restaurant_id = restaurants[(n * 7 + rng.randrange(3)) % len(restaurants)]
        currency = rng.choice(SAMPLE_RESTAURANTS[restaurant_id])
        low, high = CURRENCY_RANGES[currency]
        amount = rng.randrange(low, high, 100)
        occurred_at = SAMPLE_START + timedelta(seconds=rng.randrange(span - 10 * 86400))
        payment_id = f"pay_{n:05d}"
        charge = _charge(
            f"evt_ch_{n:05d}", restaurant_id, currency, amount, _fee(rng, amount), occurred_at, payment_id,
            f"rsv_{n:05d}",
        )
        events.append(charge)
        charges.append(charge)

    # Refunds of earlier charges: full and partial, some returning their fee, a few days later.
    refunded = rng.sample(charges, 90)
    for n, charge in enumerate(refunded, start=1):
        full = n % 3 == 0
        amount = charge["amount"] if full else max(charge["amount"] * rng.randrange(10, 90) // 10_000 * 100, 100)
        fee = charge["fee"] if full and n % 2 == 0 else 0
        occurred_at = datetime.fromisoformat(charge["occurred_at"]) + timedelta(hours=rng.randrange(2, 240))
        events.append(
            _refund(f"evt_rf_{n:05d}", charge["restaurant_id"], charge["currency"], amount, fee, occurred_at,
                    charge["metadata"]["payment_id"])
        )

    # res_012: one small charge, then a refund bigger than it (a chargeback with costs): it owes us.
    neg_charge = _charge("evt_ch_neg_001", "res_012", "USD", 5_000, 200, datetime(2025, 11, 3, 15, 0, tzinfo=UTC),
                         "pay_neg_001", "rsv_neg_001")
    events.append(neg_charge)
    events.append(_refund("evt_rf_neg_001", "res_012", "USD", 9_000, 0, datetime(2025, 11, 20, 18, 30, tzinfo=UTC),
                          "pay_neg_001"))
    # A refund for a payment we never saw: still a fact, recorded and flagged by the integrity report.
    events.append(_refund("evt_rf_unknown_001", "res_004", "PEN", 2_500, 0, datetime(2025, 12, 5, 9, 15, tzinfo=UTC),
                          "pay_unknown_999"))

    # Shuffle so occurred_at is out of order, as a processor's retries make it.
    rng.shuffle(events)

    # The processor resends: 24 exact copies later in the file, and one changed resend (a conflict).
    resends = [dict(event) for event in rng.sample(events[:800], 24)]
    for index, event in enumerate(resends):
        events.insert(rng.randrange(len(events) // 2 + index, len(events)), event)
    changed = dict(rng.choice([event for event in events[:400] if event["event_type"] == "charge_succeeded"]))
    changed["amount"] += 1_000
    events.append(changed)
    return events


def sample_expected_balances(events: list[dict]) -> dict[tuple[str, str], int]:
    """What each restaurant is owed once every charge has matured (first occurrence of each event_id wins)."""
    seen = set()
    owed: dict[tuple[str, str], int] = {}
    for event in events:
        if event["event_id"] in seen:
            continue
        seen.add(event["event_id"])
        key = (event["restaurant_id"], event["currency"])
        sign = 1 if event["event_type"] == "charge_succeeded" else -1
        owed[key] = owed.get(key, 0) + sign * (event["amount"] - event["fee"])
    return dict(sorted(owed.items()))


def generated_lines(*, restaurants: int, events: int, seed: int) -> Iterator[str]:
    """`events` JSON lines over `restaurants` restaurants; constant memory, same output for the same seed.

    About 92 % charges, 7 % refunds (full or partial) of the restaurant's latest
    charge, 1 % exact resends of an earlier line; timestamps spread over
    2025-10-01 … 2025-12-31 and slightly out of order.
    """
    rng = random.Random(seed)
    currencies = list(CURRENCY_RANGES)
    names = [f"res_{number:05d}" for number in range(1, restaurants + 1)]
    currency_of = [currencies[rng.randrange(len(currencies))] for _ in names]
    last_charge: list[tuple[str, int, int] | None] = [None] * restaurants
    span = int((SAMPLE_END - SAMPLE_START).total_seconds())
    start = int(SAMPLE_START.timestamp())
    step = span / max(events, 1)
    previous_line = None
    random_ = rng.random
    randrange = rng.randrange
    for n in range(events):
        # Drifting forward with jitter: mostly in order, sometimes not.
        moment = datetime.fromtimestamp(start + int(n * step) + randrange(-3600, 3600) if n else start, tz=UTC)
        occurred_at = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        roll = random_()
        if roll < 0.01 and previous_line is not None:
            yield previous_line
            continue
        index = randrange(restaurants)
        restaurant_id = names[index]
        currency = currency_of[index]
        previous = last_charge[index]
        if roll < 0.08 and previous is not None:
            payment_id, amount, fee = previous
            # Half are full refunds returning the fee, half partial ones keeping it.
            if roll >= 0.045:
                amount, fee = max(amount // 2, 1), 0
            last_charge[index] = None
            line = (
                f'{{"event_id": "gen_{seed}_{n:09d}", "event_type": "refund_succeeded", '
                f'"occurred_at": "{occurred_at}", "restaurant_id": "{restaurant_id}", "currency": "{currency}", '
                f'"amount": {amount}, "fee": {fee}, "metadata": {{"payment_id": "{payment_id}"}}}}'
            )
        else:
            low, high = CURRENCY_RANGES[currency]
            amount = low + randrange((high - low) // 100) * 100
            fee = amount * (300 + randrange(201)) // 10_000
            payment_id = f"pay_{seed}_{n:09d}"
            last_charge[index] = (payment_id, amount, fee)
            line = (
                f'{{"event_id": "gen_{seed}_{n:09d}", "event_type": "charge_succeeded", '
                f'"occurred_at": "{occurred_at}", "restaurant_id": "{restaurant_id}", "currency": "{currency}", '
                f'"amount": {amount}, "fee": {fee}, '
                f'"metadata": {{"reservation_id": "rsv_{seed}_{n:09d}", "payment_id": "{payment_id}"}}}}'
            )
        previous_line = line
        yield line


def sample_lines(seed: int = 247) -> Iterator[str]:
    for event in sample_events(seed):
        yield json.dumps(event, separators=(", ", ": "))
