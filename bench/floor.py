"""The floor `make bench` measures the service against: bare Django views (no middleware, no DRF,
no validation, no logging or metrics) that run exactly the statements of the two hot endpoints,
imported from the code, so the floor follows every change to them.

- GET /v1/restaurants/{id}/balance: the balance read's one statement (token, permission and
  balance: ledger.selectors.balance_get_as_token_holder);
- POST /v1/processor/events: the event's statements: its INSERT (processor.services.event_insert),
  the restaurant's accounts when this process does not know them yet (ledger.services.accounts_ensure),
  the posting (ledger.services.transactions_post), in one transaction; on a resend, the stored event
  (processor.services.event_get_recorded).

It runs on the service's own settings (database, connection persistence and health check, time
zone) with no middleware, under the same gunicorn.conf.py:

    DJANGO_SETTINGS_MODULE=bench.floor gunicorn bench.floor:application
"""

import json
from dataclasses import asdict
from datetime import datetime

from django.core.wsgi import get_wsgi_application
from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.urls import re_path

from mesa247.settings import *  # noqa: F403 - the service's own settings, minus what the floor leaves out

MIDDLEWARE = []
ROOT_URLCONF = "bench.floor"
LOGGING_CONFIG = None


def balance(request, restaurant_id):
    from ledger.selectors import balance_get_as_token_holder

    balance = balance_get_as_token_holder(
        token_key=request.META["HTTP_AUTHORIZATION"].split()[1], address=request.META["REMOTE_ADDR"],
        permission="ledger.view_restaurantbalance",
        restaurant_id=restaurant_id, currency=request.GET["currency"])
    if balance is None:
        return HttpResponse(status=404)
    return JsonResponse(asdict(balance))


def event(request):
    from ledger.services import accounts_ensure, transactions_post
    from processor.services import event_get_recorded, event_insert, event_posting

    data = json.loads(request.body)
    data["occurred_at"] = datetime.fromisoformat(data["occurred_at"])  # the recipes compute maturity from it
    try:
        with transaction.atomic(durable=True):
            recorded = event_insert(data)
            accounts = accounts_ensure(restaurant_id=recorded.restaurant_id, currency=recorded.currency)
            transaction_id = transactions_post(postings=[event_posting(event=recorded, accounts=accounts)])[0]
    except IntegrityError:
        existing = event_get_recorded(event_id=data["event_id"])
        return JsonResponse({"event_id": existing.event_id, "ledger_transaction_id": existing.ledger_transaction.pk})
    return JsonResponse({"event_id": recorded.event_id, "ledger_transaction_id": transaction_id}, status=201)


def ready(request):
    return HttpResponse("ok")


urlpatterns = [
    re_path(r"^v1/restaurants/(?P<restaurant_id>[^/]+)/balance$", balance),
    re_path(r"^v1/processor/events$", event),
    re_path(r"^readyz$", ready),
]

application = get_wsgi_application()
