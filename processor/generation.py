"""Deterministic processor events: the curated sample dataset and large synthetic files.

Both produce the JSON lines the processor would send (charges, refunds and
disputes: opened, then won or lost, or still open), in minor units, with fees
of 3–5 %, every timestamp in the past. The same seed always gives the same bytes.
"""

import heapq
import json
import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

CURRENCY_RANGES = {  # typical reservation deposits, in minor units
    "PEN": (5_000, 40_000),
    "USD": (1_500, 12_000),
    "MXN": (20_000, 150_000),
}

# The processor's dispute fee, charged whatever the outcome (the restaurant bears it), in minor units.
DISPUTE_FEES = {"PEN": 5_000, "USD": 1_500, "MXN": 25_000}

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


def _dispute(event_id, event_type, charge: dict, amount, fee, occurred_at, dispute_id) -> dict:
    metadata = {"dispute_id": dispute_id}
    if event_type == "dispute_opened":
        metadata["payment_id"] = charge["metadata"]["payment_id"]
    return {
        "event_id": event_id,
        "event_type": event_type,
        "occurred_at": _iso(occurred_at),
        "restaurant_id": charge["restaurant_id"],
        "currency": charge["currency"],
        "amount": amount,
        "fee": fee,
        "metadata": metadata,
    }


# The sample's disputes, in order of the charges they dispute: how each ends (None: still open) and, for a
# won one, how much of its fee the processor gave back.
SAMPLE_DISPUTE_OUTCOMES = [("won", 0), ("lost", 0), (None, 0), ("lost", 0), ("won", "all"), ("lost", 0),
                           ("won", 0), (None, 0)]
SAMPLE_LAST_MOMENT = datetime(2025, 12, 29, 22, 0, tzinfo=UTC)


def _sample_disputes(rng: random.Random, charges: list[dict], refunded: list[dict]) -> list[tuple[dict, dict | None]]:
    """(opening, decision or None) for a few charges that were not refunded, every decision after its opening."""
    refunded_ids = {charge["event_id"] for charge in refunded}
    candidates = [
        charge for charge in charges
        if charge["event_id"] not in refunded_ids and charge["occurred_at"] < "2025-11-15"
    ]
    chosen = sorted(rng.sample(candidates, len(SAMPLE_DISPUTE_OUTCOMES)), key=lambda charge: charge["event_id"])
    disputes = []
    for n, (charge, (outcome, fee_back)) in enumerate(zip(chosen, SAMPLE_DISPUTE_OUTCOMES, strict=True), start=1):
        fee = DISPUTE_FEES[charge["currency"]]
        opened_at = datetime.fromisoformat(charge["occurred_at"]) + timedelta(hours=rng.randrange(72, 480))
        opening = _dispute(f"evt_dp_{n:05d}", "dispute_opened", charge, charge["amount"], fee, opened_at,
                           f"dsp_{n:05d}")
        decision = None
        if outcome is not None:
            decided_at = min(opened_at + timedelta(hours=rng.randrange(120, 600)), SAMPLE_LAST_MOMENT)
            decision = _dispute(f"evt_dp_{n:05d}_{outcome}", f"dispute_{outcome}", charge,
                                charge["amount"], fee if fee_back == "all" else 0, decided_at, f"dsp_{n:05d}")
        disputes.append((opening, decision))
    return disputes


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

    # Disputes, drawn from their own generator so that every other line stays as it was: each opening
    # somewhere in the file, its decision (if any) on a later line, as the loader must see them.
    dispute_rng = random.Random(f"{seed}:disputes")
    for opening, decision in _sample_disputes(dispute_rng, charges, refunded):
        at = dispute_rng.randrange(len(events) - 40)
        events.insert(at, opening)
        if decision is not None:
            events.insert(dispute_rng.randrange(at + 1, len(events)), decision)
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
        event_type, amount, fee = event["event_type"], event["amount"], event["fee"]
        effect = {
            "charge_succeeded": amount - fee,
            "refund_succeeded": -(amount - fee),
            "dispute_opened": -(amount + fee),
            "dispute_won": amount + fee,
            "dispute_lost": 0,
        }[event_type]
        owed[key] = owed.get(key, 0) + effect
    return dict(sorted(owed.items()))


DISPUTE_RATE = 0.0075  # of charges, disputed some days later


def generated_lines(*, restaurants: int, events: int, seed: int) -> Iterator[str]:
    """`events` JSON lines over `restaurants` restaurants; same output for the same seed.

    About 91 % charges, 7 % refunds (full or partial) of the restaurant's latest
    charge, 1 % exact resends of an earlier line, and disputes of about 0.75 % of
    the charges: opened 2–30 days after the charge with the processor's dispute
    fee, then (on a later line, strictly later in time) about 60 % lost, 30 %
    won and 10 % never decided; a dispute past the end of the file stays open.
    Timestamps spread over 2025-10-01 … 2025-12-31, slightly out of order.
    Memory grows only with the disputes waiting for their line.
    """
    rng = random.Random(seed)
    currencies = list(CURRENCY_RANGES)
    names = [f"res_{number:05d}" for number in range(1, restaurants + 1)]
    currency_of = [currencies[rng.randrange(len(currencies))] for _ in names]
    last_charge: list[tuple[str, int, int] | None] = [None] * restaurants
    span = int((SAMPLE_END - SAMPLE_START).total_seconds())
    start = int(SAMPLE_START.timestamp())
    step = span / max(events, 1)
    # Dispute lines waiting for their turn: (line number due, order of scheduling, line builder arguments).
    scheduled: list[tuple[int, int, tuple]] = []
    schedule_order = 0
    previous_line = None
    random_ = rng.random
    randrange = rng.randrange

    def due_after(line_number: int, seconds: int) -> int:
        return line_number + max(1, math.ceil(seconds / step))

    for n in range(events):
        if scheduled and scheduled[0][0] <= n:
            _, _, (event_type, dispute_id, restaurant_id, currency, payment_id, amount, fee, moment) = (
                heapq.heappop(scheduled))
            line = _generated_dispute_line(seed, n, event_type, dispute_id, restaurant_id, currency, payment_id,
                                           amount, fee, moment)
            if event_type == "dispute_opened" and random_() < 0.9:
                outcome = "dispute_lost" if random_() < 2 / 3 else "dispute_won"
                decided = moment + randrange(3 * 86400, 40 * 86400)
                fee_back = fee if outcome == "dispute_won" and random_() < 0.2 else 0
                heapq.heappush(scheduled, (due_after(n, decided - moment), schedule_order, (
                    outcome, dispute_id, restaurant_id, currency, None, amount, fee_back, decided)))
                schedule_order += 1
            previous_line = line
            yield line
            continue
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
            if random_() < DISPUTE_RATE:  # disputed later, so never refunded
                opened = int(moment.timestamp()) + randrange(2 * 86400, 30 * 86400)
                heapq.heappush(scheduled, (due_after(n, opened - int(moment.timestamp())), schedule_order, (
                    "dispute_opened", f"dsp_{seed}_{n:09d}", restaurant_id, currency, payment_id, amount,
                    DISPUTE_FEES[currency], opened)))
                schedule_order += 1
            else:
                last_charge[index] = (payment_id, amount, fee)
            line = (
                f'{{"event_id": "gen_{seed}_{n:09d}", "event_type": "charge_succeeded", '
                f'"occurred_at": "{occurred_at}", "restaurant_id": "{restaurant_id}", "currency": "{currency}", '
                f'"amount": {amount}, "fee": {fee}, '
                f'"metadata": {{"reservation_id": "rsv_{seed}_{n:09d}", "payment_id": "{payment_id}"}}}}'
            )
        previous_line = line
        yield line


def _generated_dispute_line(seed, n, event_type, dispute_id, restaurant_id, currency, payment_id, amount, fee,
                            moment: int) -> str:
    occurred_at = datetime.fromtimestamp(moment, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    payment = f', "payment_id": "{payment_id}"' if payment_id else ""
    return (
        f'{{"event_id": "gen_{seed}_{n:09d}", "event_type": "{event_type}", '
        f'"occurred_at": "{occurred_at}", "restaurant_id": "{restaurant_id}", "currency": "{currency}", '
        f'"amount": {amount}, "fee": {fee}, "metadata": {{"dispute_id": "{dispute_id}"{payment}}}}}'
    )


def sample_lines(seed: int = 247) -> Iterator[str]:
    for event in sample_events(seed):
        yield json.dumps(event, separators=(", ", ": "))
