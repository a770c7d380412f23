"""The OpenAPI schema tells the truth: Schemathesis fuzzes every operation of the live schema.

The schema is read from `/api/schema/` of the WSGI application, as a client
reads it. Every operation is called with generated valid and invalid requests,
with a DRF token holding every permission and, on the processor endpoints, a
valid `X-Mesa-Signature` over the exact bytes sent, so fuzzing reaches past
authentication into validation and the services. Every built-in check is on
(server errors, status codes, content types, response schemas and headers,
acceptance of valid and rejection of invalid data, ignored auth, unsupported
methods, …) and nothing is excluded. Examples are derandomized (a fixed seed)
and bounded, so a failure reproduces and the run stays well under two minutes.

The stateful phase then chains operations as a client would: an event recorded
for a restaurant is followed by reads of that restaurant (balance, balances,
ledger listing, statement, payouts), a payout run by its status and its
payouts, a payout list by its payouts. Every check runs on every step.
"""

import hashlib
import json
import re
import uuid

import hypothesis
import pytest
import schemathesis
from django.contrib.auth.models import Permission
from django.core.wsgi import get_wsgi_application
from django.test import override_settings
from schemathesis.core import NotSet
from schemathesis.core.parameters import ParameterLocation

from access.services import api_token_create
from mesa247.identifiers import EVENT_ID_PATTERN
from processor.signature import SIGNATURE_HEADER, SIGNATURE_PATTERN
from tests.conftest import sign
from tests.factories import UserFactory

MAX_EXAMPLES = 50
STATEFUL_SCENARIOS = 25
STATEFUL_STEPS = 6
HEADER = ParameterLocation.HEADER

# Schemathesis calls the application as http://localhost.
with override_settings(ALLOWED_HOSTS=["localhost"]):
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
# No NUL in generated text: PostgreSQL cannot store it, and OpenAPI 3.0 cannot say "no NUL in any key
# of a free-form object" (metadata). The schema says it in words; the 400 for a NUL anywhere in an
# event is tested in tests/processor/test_bad_inputs.py.
schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True, allow_x00=False,
                                database="none")  # no replay of saved examples: every run is the same run
# A valid payout event naming a payout that does not exist is 422, as a valid id of a missing
# resource is 404: the schema cannot know which payouts exist.
acceptance = schema.config.checks.positive_data_acceptance
acceptance.expected_statuses = [*acceptance.expected_statuses, "422"]


@schema.auth(refresh_interval=None)
class EveryPermissionToken:
    """`Authorization: Token …` of a user holding every permission (made per test, in its database)."""

    key = None

    def get(self, case, context):
        return EveryPermissionToken.key

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Token {data}"}


@pytest.fixture(autouse=True)
def _every_permission_token(transactional_db, settings):
    settings.ALLOWED_HOSTS = ["localhost"]
    user = UserFactory()
    user.user_permissions.set(Permission.objects.all())
    EveryPermissionToken.key = api_token_create(user=user).key


_DATE_PREFIX = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _in_the_past(value):
    """A generated date or date-time moved to the year 2000, keeping the rest (leap days included)."""
    if isinstance(value, str) and _DATE_PREFIX.match(value):
        return "2000" + value[4:]
    return value


_SETTLEMENT_REPORT_PATH = "/v1/reconciliation/reports"


def _settlement_report(context, body):
    """A settlement report's CSV rules (one report id, net by the formula) are stated in words, as JSON Schema
    cannot: any generated body (binary, so never invalid as the schema sees it) becomes a valid report of its own."""
    if context.operation.path != _SETTLEMENT_REPORT_PATH or isinstance(body, dict):
        return body
    raw = body if isinstance(body, bytes) else str(body).encode()
    report_id = "stl_" + hashlib.sha256(raw).hexdigest()[:16]
    return (f"report_id,line_id,category,source_id,restaurant_id,currency,amount,fee,net,occurred_at\n"
            f"{report_id},{report_id}_1,charge,evt_{report_id},res_001,PEN,1000,30,970,2025-12-01T10:00:00Z\n").encode()


@schemathesis.hook
def map_body(context, body):
    """Apply the rules the schema states in words, as JSON Schema cannot: `occurred_at` and `as_of`
    are not in the future, and `fee` is at most `amount`. Values the generator made invalid stay invalid.
    A settlement report's body becomes a valid report (`_settlement_report`)."""
    body = _settlement_report(context, body)
    if isinstance(body, dict):
        for name in ("occurred_at", "as_of"):
            if name in body:
                body[name] = _in_the_past(body[name])
        fee, amount = body.get("fee"), body.get("amount")
        if type(fee) is int and type(amount) is int and 0 < amount < fee:
            body["fee"] = amount
    return body


@schemathesis.hook
def map_query(context, query):
    """The statement's period runs forwards: `from` is not after `to` (a rule the schema states in words).
    Generated dates that are not dates stay as they are, and must be refused."""
    if isinstance(query, dict):
        start, end = query.get("from"), query.get("to")
        dates = all(isinstance(value, str) and _DATE_PREFIX.match(value) for value in (start, end))
        if dates and start > end:
            query["from"], query["to"] = end, start
    return query


def _well_formed_signature(case) -> bool:
    return bool(re.match(SIGNATURE_PATTERN, (case.headers or {}).get(SIGNATURE_HEADER, "")))


def _signed_by_the_processor(case) -> bool:
    """The header is there and the case is not about it: a generated `t=…,v1=…`, or a placeholder
    the generator put in while it varied something else (the body, say)."""
    if SIGNATURE_HEADER not in (case.headers or {}):
        return False
    if _well_formed_signature(case) or case.meta is None:
        return True
    # A coverage scenario names the one location it varies; other cases are marked per location.
    varied = getattr(case.meta.phase.data, "parameter_location", None)
    return varied != HEADER if varied is not None else not case.meta.is_negative_at(HEADER)


@schemathesis.hook
def before_call(context, case, kwargs):
    """Sign a processor event as the processor would, over exactly the bytes sent.

    A missing or malformed signature header that the case is testing (a negative
    case at the header) is sent as generated, and must be refused.
    """
    if not _signed_by_the_processor(case):
        return
    if isinstance(case.body, NotSet):
        body = b""
    elif isinstance(case.body, bytes):
        body = case.body
    else:
        body = json.dumps(case.body).encode()
    kwargs["data"] = body  # the transport sends these bytes instead of serializing the body itself
    case.headers[SIGNATURE_HEADER] = sign(body)


def signed_events_are_authenticated(ctx, response, case):
    """The signing above works: a signed processor event is never refused as unauthenticated."""
    if _well_formed_signature(case) and response.status_code == 401:
        raise AssertionError(f"A signed event was refused: {response.text}")


@schema.parametrize()
def test_the_service_answers_as_its_schema_says(case):
    case.call_and_validate(additional_checks=[signed_events_are_authenticated])



# --- stateful phase -----------------------------------------------------------------------------

RESTAURANT_OF_THE_EVENT = {"restaurant_id": "$request.body#/restaurant_id"}
READS_OF_THE_EVENT_S_RESTAURANT = {
    "Balance": ("restaurant_balance_get", {**RESTAURANT_OF_THE_EVENT, "currency": "$request.body#/currency"}),
    "Balances": ("restaurant_balance_list", RESTAURANT_OF_THE_EVENT),
    "LedgerListing": ("restaurant_ledger_list", {**RESTAURANT_OF_THE_EVENT, "currency": "$request.body#/currency"}),
    "Statement": ("restaurant_statement_get", {**RESTAURANT_OF_THE_EVENT, "currency": "$request.body#/currency"}),
    "Payouts": ("payout_list", RESTAURANT_OF_THE_EVENT),
}
RUN_S_READS = {
    "Run": ("payout_run_get", {"run_id": "$response.body#/run_id"}),
    "PayoutsOfTheRun": ("payout_list", {"currency": "$response.body#/currency", "as_of": "$response.body#/as_of"}),
}
# What a client learns from each answer, as OpenAPI links (drf-spectacular cannot declare them on a
# response; schemathesis infers only the links between reads with the same path parameter).
LINKS = {
    ("/v1/processor/events", "post", "201"): READS_OF_THE_EVENT_S_RESTAURANT,
    ("/v1/processor/events", "post", "200"): READS_OF_THE_EVENT_S_RESTAURANT,
    ("/v1/payouts/run", "post", "202"): RUN_S_READS,
}
for (path, method, status), links in LINKS.items():
    schema.raw_schema["paths"][path][method]["responses"][status]["links"] = {
        name: {"operationId": operation_id, "parameters": parameters}
        for name, (operation_id, parameters) in links.items()
    }


# Restaurants come into existence with their first event, so an event is where a client starts. Schemathesis
# reads the event's `restaurant_id` as a reference to a resource nothing creates, and so would never start there.
_event_ingest = schema.analysis.dependency_graph.operations["POST /v1/processor/events"]
_event_ingest.inputs = [slot for slot in _event_ingest.inputs if slot.resource.name != "Restaurant"]


# Schemathesis builds the state machine class from the schema at run time, out of mypy's sight.
class ClientWorkflow(schema.as_state_machine()):  # type: ignore[misc]
    answered: set[str] = set()  # "GET /v1/… 200" of every step, across scenarios

    def before_call(self, case):
        # A fresh id for each event sent, so that an answer does not depend on what earlier scenarios
        # recorded (Hypothesis replays a scenario and needs the same answers); resends are tested above.
        body = case.body
        if case.operation.path == "/v1/processor/events" and isinstance(body, dict) and isinstance(
                body.get("event_id"), str) and re.fullmatch(EVENT_ID_PATTERN, body["event_id"]):
            body["event_id"] = f"evt_{uuid.uuid4().hex}"
        super().before_call(case)

    def after_call(self, response, case):
        super().after_call(response, case)
        ClientWorkflow.answered.add(f"{case.operation.method.upper()} {case.operation.path} {response.status_code}")

    def validate_response(self, response, case, additional_checks=None, **kwargs):
        super().validate_response(response, case, additional_checks=[signed_events_are_authenticated], **kwargs)


def test_chained_operations_answer_as_the_schema_says():
    ClientWorkflow.answered.clear()
    ClientWorkflow.run(settings=hypothesis.settings(
        max_examples=STATEFUL_SCENARIOS, stateful_step_count=STATEFUL_STEPS, derandomize=True, database=None,
        deadline=None, suppress_health_check=list(hypothesis.HealthCheck),
    ))
    # The links were followed: only a restaurant an event created has a balance, only a run requested has a status.
    # (Which of a restaurant's reads a scenario reaches with a valid query varies as operations are added; one
    # of them answering 200 shows the event's restaurant was followed.)
    restaurant_reads = {f"GET /v1/restaurants/{{restaurant_id}}/{read} 200" for read in ("ledger", "statement")}
    answered = ClientWorkflow.answered
    assert {"GET /v1/restaurants/{restaurant_id}/balance 200", "GET /v1/payouts/runs/{run_id} 200"} <= answered, \
        " | ".join(sorted(answered))
    assert restaurant_reads & answered, " | ".join(sorted(answered))

