"""The HTTP load generator of `make bench`, run as its own process (asyncio + aiohttp).

    python -m bench.load ingest --url URL --secret S --restaurants N [--concurrency 16] [--seconds 20]
    python -m bench.load read --url URL --token T --ids FILE [--currency PEN] [--concurrency 8] [--seconds 15]

ingest: signed single events (POST /v1/processor/events): new charges and refunds of restaurants
res_00001…res_N in PEN, 10 % exact resends of events already answered 201. occurred_at lies 8–60
days back, so the charges have matured by the payout phase.
read: GET /v1/restaurants/{id}/balance?currency=… for ids picked at random from FILE.

Requests of the first --warmup seconds are sent but not counted. Prints one JSON object:
requests, seconds, rate, latency percentiles (ms), counts by status, errors.
"""

import argparse
import asyncio
import hashlib
import hmac
import json
import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import aiohttp


class Recorder:
    def __init__(self, warmup: float, seconds: float):
        now = time.perf_counter()
        self.measure_from = now + warmup
        self.deadline = self.measure_from + seconds
        self.latencies: list[float] = []
        self.statuses: Counter = Counter()
        self.errors: Counter = Counter()

    def running(self) -> bool:
        return time.perf_counter() < self.deadline

    async def send(self, session: aiohttp.ClientSession, method: str, path: str, **kwargs) -> int | None:
        started = time.perf_counter()
        try:
            async with session.request(method, path, **kwargs) as response:
                await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as exc:
            if started >= self.measure_from:
                self.errors[type(exc).__name__] += 1
            return None
        finished = time.perf_counter()
        if self.measure_from <= started and finished <= self.deadline:
            self.latencies.append((finished - started) * 1000)
            self.statuses[str(status)] += 1
        return status

    def summary(self, seconds: float) -> dict:
        latencies = sorted(self.latencies)

        def percentile(p: float) -> float | None:
            if not latencies:
                return None
            return round(latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))], 2)

        return {
            "requests": len(latencies),
            "seconds": seconds,
            "rate": round(len(latencies) / seconds, 1),
            "p50_ms": percentile(50),
            "p95_ms": percentile(95),
            "p99_ms": percentile(99),
            "max_ms": round(latencies[-1], 2) if latencies else None,
            "statuses": dict(sorted(self.statuses.items())),
            "errors": dict(self.errors),
        }


def signed_headers(secret: bytes, body: bytes) -> dict:
    timestamp = int(time.time())
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Mesa-Signature": f"t={timestamp},v1={digest}"}


class EventSource:
    """New charges (≈82 %), refunds of the restaurant's last charge (≈8 %), exact resends (≈10 %)."""

    def __init__(self, restaurants: int, seed: int):
        self.rng = random.Random(seed)
        self.names = [f"res_{number:05d}" for number in range(1, restaurants + 1)]
        self.last_charge: dict[str, tuple[str, int]] = {}
        self.created: list[bytes] = []
        self.tag = f"bench_{int(time.time())}_{seed}"
        self.number = 0

    def next(self) -> bytes:
        rng = self.rng
        roll = rng.random()
        if roll < 0.10 and self.created:
            return rng.choice(self.created)
        self.number += 1
        event_id = f"{self.tag}_{self.number:08d}"
        restaurant_id = rng.choice(self.names)
        # Up to 60 days old, the last week still maturing: balance reads sum pending entries, as they do
        # in production, where most events arrive minutes after they occurred.
        occurred_at = (datetime.now(UTC) - timedelta(seconds=rng.randrange(0, 60 * 86400)))
        event: dict[str, object] = {"event_id": event_id, "occurred_at": occurred_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "restaurant_id": restaurant_id, "currency": "PEN"}
        charge = self.last_charge.pop(restaurant_id, None) if roll < 0.18 else None
        if charge:
            payment_id, amount = charge
            event.update(event_type="refund_succeeded", amount=max(amount // 2, 100), fee=0,
                         metadata={"payment_id": payment_id})
        else:
            amount = rng.randrange(5_000, 40_000, 100)
            payment_id = f"pay_{event_id}"
            self.last_charge[restaurant_id] = (payment_id, amount)
            event.update(event_type="charge_succeeded", amount=amount, fee=amount * rng.randint(300, 500) // 10_000,
                         metadata={"reservation_id": f"rsv_{event_id}", "payment_id": payment_id})
        return json.dumps(event).encode()


async def ingest(options, recorder: Recorder, session: aiohttp.ClientSession) -> None:
    source = EventSource(options.restaurants, options.seed)
    secret = options.secret.encode()

    async def client():
        while recorder.running():
            body = source.next()
            status = await recorder.send(session, "POST", "/v1/processor/events", data=body,
                                         headers=signed_headers(secret, body))
            if status == 201:
                source.created.append(body)

    await asyncio.gather(*(client() for _ in range(options.concurrency)))


async def read(options, recorder: Recorder, session: aiohttp.ClientSession) -> None:
    with open(options.ids) as handle:
        ids = [line.strip() for line in handle if line.strip()]
    headers = {"Authorization": f"Token {options.token}"}
    rng = random.Random(options.seed)

    async def client():
        while recorder.running():
            path = f"/v1/restaurants/{rng.choice(ids)}/balance?currency={options.currency}"
            await recorder.send(session, "GET", path, headers=headers)

    await asyncio.gather(*(client() for _ in range(options.concurrency)))


async def main_async(options) -> dict:
    recorder = Recorder(options.warmup, options.seconds)
    connector = aiohttp.TCPConnector(limit=options.concurrency)
    timeout = aiohttp.ClientTimeout(total=60)
    # What the TLS-terminating proxy in front of the service adds (see SECURE_PROXY_SSL_HEADER).
    proxy_headers = {"X-Forwarded-Proto": "https"}
    async with aiohttp.ClientSession(options.url, connector=connector, timeout=timeout,
                                     headers=proxy_headers) as session:
        await (ingest if options.phase == "ingest" else read)(options, recorder, session)
    return recorder.summary(options.seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("phase", choices=["ingest", "read"])
    parser.add_argument("--url", required=True, help="base URL, e.g. http://127.0.0.1:8247")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0, help="measured duration")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds sent first and not counted")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--secret", help="ingest: the webhook signing secret")
    parser.add_argument("--restaurants", type=int, default=1_000, help="ingest: restaurants res_00001…")
    parser.add_argument("--token", help="read: API token")
    parser.add_argument("--ids", help="read: file of restaurant ids, one a line")
    parser.add_argument("--currency", default="PEN")
    options = parser.parse_args()
    if options.phase == "ingest" and not options.secret:
        parser.error("ingest needs --secret")
    if options.phase == "read" and not (options.token and options.ids):
        parser.error("read needs --token and --ids")
    json.dump(asyncio.run(main_async(options)), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
