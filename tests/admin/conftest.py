"""A small, hand-checkable money world for the back-office tests, built through the services.

    res_a PEN  charge 120.00 fee 6.00 (20 days ago), charge 80.00 fee 4.00 (15 days ago),
               refund 50.00 (12 days ago)                      → 140.00 available
               charge 100.00 fee 5.00 (1 day ago, not matured) →  95.00 pending
               payout run (as of today, min 10.00) reserves the 140.00
    res_c PEN  charge 500.00 fee 20.00 (25 days ago) → payout 480.00, then paid by the bank
    res_b USD  charge 50.00 fee 2.50, refund 50.00 (20 days ago) → -2.50: it owes us

After the run: PEN available 0.00, pending 95.00, reserved 140.00, paid in the last
30 days 480.00 (one payout); USD available -2.50 with one restaurant owing us.
"""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY

from payouts.models import Payout, PayoutRun
from payouts.services import payout_run_execute, payout_run_request
from processor.ingestion import event_ingest
from processor.models import Event
from staff.devices import totp_device_create
from tests.helpers import migration_data_ensure

PASSWORD = "correct horse battery staple"
FINANCE_VIEWER = "Finance viewer"
FINANCE_MANAGER = "Finance manager"


def at(**delta) -> str:
    return (timezone.now() - timedelta(**delta)).replace(microsecond=0).isoformat()


def ingest(event_id: str, event_type: str, restaurant_id: str, amount: int, *, fee: int = 0, currency: str = "PEN",
           occurred_at: str, **metadata) -> Event:
    payload = {
        "event_id": event_id,
        "event_type": event_type,
        "occurred_at": occurred_at,
        "restaurant_id": restaurant_id,
        "currency": currency,
        "amount": amount,
        "fee": fee,
        "metadata": metadata,
    }
    return event_ingest(payload=payload).event


def run_payouts(*, currency: str = "PEN", min_amount: int = 1, as_of=None) -> PayoutRun:
    run = payout_run_request(
        currency=currency, as_of=as_of or timezone.localdate(), min_amount=min_amount, enqueue=False
    )
    return payout_run_execute(run_id=run.pk)


def staff_user(username: str, group: str) -> User:
    if not Group.objects.filter(name=group).exists():
        migration_data_ensure()
    user = User.objects.create_user(username=username, password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@dataclass
class MoneyWorld:
    run: PayoutRun
    payout_a: Payout
    payout_c: Payout
    events: dict[str, Event]


def money_world_build() -> MoneyWorld:
    events = {}
    for event in [
        ingest("evt_a1", "charge_succeeded", "res_a", 12000, fee=600, occurred_at=at(days=20), payment_id="pay_a1"),
        ingest("evt_a2", "charge_succeeded", "res_a", 8000, fee=400, occurred_at=at(days=15), payment_id="pay_a2"),
        ingest("evt_a3", "refund_succeeded", "res_a", 5000, occurred_at=at(days=12), payment_id="pay_a1"),
        ingest("evt_a4", "charge_succeeded", "res_a", 10000, fee=500, occurred_at=at(days=1), payment_id="pay_a4"),
        ingest("evt_c1", "charge_succeeded", "res_c", 50000, fee=2000, occurred_at=at(days=25), payment_id="pay_c1"),
        ingest("evt_b1", "charge_succeeded", "res_b", 5000, fee=250, currency="USD", occurred_at=at(days=20),
               payment_id="pay_b1"),
        ingest("evt_b2", "refund_succeeded", "res_b", 5000, currency="USD", occurred_at=at(days=19),
               payment_id="pay_b1"),
    ]:
        events[event.event_id] = event
    run = run_payouts(currency="PEN", min_amount=1000)
    payout_a = Payout.objects.get(restaurant_id="res_a")
    payout_c = Payout.objects.get(restaurant_id="res_c")
    paid = ingest("evt_c_paid", "payout_paid", "res_c", payout_c.amount, occurred_at=at(hours=1),
                  payout_id=payout_c.pk)
    events[paid.event_id] = paid
    payout_c.refresh_from_db()
    return MoneyWorld(run=run, payout_a=payout_a, payout_c=payout_c, events=events)


class StaffClient(Client):
    """A test client whose force_login is a full staff sign-in: password and second factor passed.

    (The back office requires the second factor with DEBUG off, as in these tests; the sign-in
    itself is proved in tests/admin/test_signin.py.)"""

    def force_login(self, user, backend=None):
        super().force_login(user, backend)
        device = totp_device_create(user=user, confirmed=True)
        session = self.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()


@pytest.fixture
def client() -> Client:
    return StaffClient()


@pytest.fixture
def money_world(db) -> MoneyWorld:
    return money_world_build()


@pytest.fixture
def viewer(db) -> User:
    return staff_user("fiona.viewer", FINANCE_VIEWER)


@pytest.fixture
def manager(db) -> User:
    return staff_user("mario.manager", FINANCE_MANAGER)


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser(username="root", password=PASSWORD, email="root@mesa247.test")


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def superuser_client(client, superuser):
    client.force_login(superuser)
    return client
