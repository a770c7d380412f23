from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from mesa247.authentication import client_address, token_key
from mesa247.errors import InvalidInput, validation_errors
from mesa247.fast_path import accepts_plain_json, json_response, with_fast_path
from mesa247.fields import LOCAL_DATE_PATTERN
from mesa247.filters import repeated_parameters
from mesa247.identifiers import RESTAURANT_ID_PATTERN
from mesa247.money import unsupported_currency
from mesa247.pagination import StrictCursorPagination
from mesa247.permissions import require_perms
from mesa247.schema import (
    ONCE,
    PROBLEM_RESPONSES,
    auth_examples,
    currency_parameter,
    pagination_parameters,
    problem_example,
)

from .filters import adjustment_filters_from_query
from .models import AdjustmentStatus
from .selectors import (
    adjustment_list,
    balance_get,
    balance_get_as_token_holder,
    balances_list,
    ledger_listing_entries,
)
from .serializers import (
    AdjustmentOutputSerializer,
    AdjustmentPageOutputSerializer,
    CurrencyQuerySerializer,
    LedgerEntryOutputSerializer,
    LedgerPageOutputSerializer,
    RestaurantBalanceListOutputSerializer,
    RestaurantBalanceOutputSerializer,
    StatementOutputSerializer,
    StatementQuerySerializer,
)
from .statement_formats import statement_csv_response, statement_json_response
from .statements import statement_get

CURRENCY_PARAMETER = currency_parameter("ISO 4217 code (default: DEFAULT_CURRENCY)")
BALANCE_EXAMPLE = {
    "restaurant_id": "res_001",
    "currency": "PEN",
    "available": 10800,
    "pending": 0,
    "reserved": 0,
    "last_event_at": "2025-12-30T15:00:00Z",
    "payouts_held": False,
}
RESTAURANT_NOT_FOUND = problem_example(
    404, "restaurant_not_found", "No restaurant 'res_404' has any recorded activity."
)
UNSUPPORTED_CURRENCY = problem_example(
    400, "validation_error", "Invalid query parameters.",
    errors={"currency": ["Unsupported currency 'EUR'; use one of PEN, USD, MXN."]},
)


def query_validated(serializer_class, request, *, also_once: tuple[str, ...] = ()) -> dict:
    """The query parameters `serializer_class` reads, validated, each of them and of `also_once` given
    at most once; else a 400."""
    serializer = serializer_class(data=request.query_params)
    errors = repeated_parameters(request.query_params, [*serializer.fields, *also_once])
    if not serializer.is_valid():
        errors = {**validation_errors(serializer.errors), **errors}
    if errors:
        raise InvalidInput("Invalid query parameters.", errors=errors)
    return serializer.validated_data


def currency_from_query(request) -> str:
    return query_validated(CurrencyQuerySerializer, request).get("currency", settings.DEFAULT_CURRENCY)


BALANCE_PERMISSION = "ledger.view_restaurantbalance"
# Built once and shared: `to_representation` keeps no state.
_BALANCE_OUTPUT = RestaurantBalanceOutputSerializer()


def balance_for_token_holder(request, restaurant_id: str):
    """The common balance read in one statement: GET with an API token, at most `?currency=` of a
    supported code, plain JSON. None for anything else, or when the statement finds no allowed
    row, and RestaurantBalanceApi answers (401, 403, 404, 400, HEAD, OPTIONS, sessions)."""
    if request.method != "GET" or not accepts_plain_json(request):
        return None
    key = token_key(request)
    query = request.GET
    if key is None or query.keys() - {"currency"}:
        return None
    currencies = query.getlist("currency") or [settings.DEFAULT_CURRENCY]
    if len(currencies) != 1 or unsupported_currency(currencies[0]):
        return None
    balance = balance_get_as_token_holder(token_key=key, address=client_address(request),
                                          permission=BALANCE_PERMISSION, restaurant_id=restaurant_id,
                                          currency=currencies[0])
    if balance is None:
        return None
    return json_response(_BALANCE_OUTPUT.to_representation(balance))


class RestaurantBalanceApi(APIView):
    permission_classes = [require_perms(BALANCE_PERMISSION)]

    @classmethod
    def as_view(cls, **initkwargs):
        return with_fast_path(super().as_view(**initkwargs), balance_for_token_holder)

    @extend_schema(
        operation_id="restaurant_balance_get",
        summary="A restaurant's balance in one currency",
        parameters=[CURRENCY_PARAMETER],
        responses={200: RestaurantBalanceOutputSerializer, **PROBLEM_RESPONSES(400, 401, 403, 404)},
        examples=[
            OpenApiExample("Balance", value=BALANCE_EXAMPLE, response_only=True),
            UNSUPPORTED_CURRENCY,
            *auth_examples("ledger.view_restaurantbalance"),
            RESTAURANT_NOT_FOUND,
        ],
        tags=["balances"],
    )
    def get(self, request, restaurant_id: str):
        currency = currency_from_query(request)
        balance = balance_get(restaurant_id=restaurant_id, currency=currency)
        return Response(RestaurantBalanceOutputSerializer(balance).data)


class RestaurantBalanceListApi(APIView):
    permission_classes = [require_perms("ledger.view_restaurantbalance")]

    @extend_schema(
        operation_id="restaurant_balance_list",
        summary="A restaurant's balances in every currency it has activity in",
        responses={200: RestaurantBalanceListOutputSerializer, **PROBLEM_RESPONSES(401, 403, 404)},
        examples=[
            OpenApiExample(
                "Balances", value={"restaurant_id": "res_001", "balances": [BALANCE_EXAMPLE]}, response_only=True
            ),
            *auth_examples("ledger.view_restaurantbalance"),
            RESTAURANT_NOT_FOUND,
        ],
        tags=["balances"],
    )
    def get(self, request, restaurant_id: str):
        balances = balances_list(restaurant_id=restaurant_id)
        return Response(
            RestaurantBalanceListOutputSerializer({"restaurant_id": restaurant_id, "balances": balances}).data
        )


class LedgerListingPagination(StrictCursorPagination):
    ordering = "-id"


class RestaurantLedgerListApi(APIView):
    permission_classes = [require_perms("ledger.view_entry")]

    @extend_schema(
        operation_id="restaurant_ledger_list",
        summary="A restaurant's ledger listing: its ledger entries, newest first",
        description="Cursor-paginated; follow `next` until it is null.",
        parameters=[
            CURRENCY_PARAMETER,
            *pagination_parameters(),
        ],
        responses={
            200: LedgerPageOutputSerializer,
            **PROBLEM_RESPONSES(400, 401, 403, 404),
        },
        examples=[
            OpenApiExample(
                "Ledger listing",
                value={
                    "next": None,
                    "previous": None,
                    "results": [
                        {
                            "entry_id": 2,
                            "account": "payable",
                            "entry_type": "gross",
                            "amount": 12000,
                            "currency": "PEN",
                            "effective_at": "2026-01-06T10:00:00Z",
                            "posted_at": "2025-12-30T10:00:02Z",
                            "transaction_id": 1,
                            "transaction_kind": "charge",
                            "event_id": "evt_000123",
                            "payout_id": None,
                            "adjustment_id": None,
                        }
                    ],
                },
                response_only=True,
            ),
            problem_example(
                400, "validation_error", "Invalid query parameters.",
                errors={"page_size": ["Must be an integer from 1 to 500."]},
            ),
            problem_example(
                400, "validation_error", "Invalid query parameters.",
                errors={"page_size": ["Give this parameter once."]},
                example_name="400 a parameter given twice (page_size=1&page_size=200)",
            ),
            *auth_examples("ledger.view_entry"),
            RESTAURANT_NOT_FOUND,
        ],
        tags=["balances"],
    )
    def get(self, request, restaurant_id: str):
        currency = currency_from_query(request)
        entries = ledger_listing_entries(restaurant_id=restaurant_id, currency=currency)
        paginator = LedgerListingPagination()
        page = paginator.paginate_queryset(entries, request, view=self)
        return paginator.get_paginated_response(LedgerEntryOutputSerializer(page, many=True).data)


class StatementCSVRenderer(BaseRenderer):
    """Lets content negotiation accept `Accept: text/csv`; the CSV itself is streamed by the view."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):  # pragma: no cover - never called
        raise NotImplementedError("The statement CSV is streamed, not rendered.")


def statement_query(request) -> dict:
    # `format` is read by DRF's content negotiation, before the view.
    data = query_validated(StatementQuerySerializer, request, also_once=(api_settings.URL_FORMAT_OVERRIDE,))
    return {"currency": data.get("currency", settings.DEFAULT_CURRENCY), "date_from": data["from"],
            "date_to": data["to"]}


STATEMENT_EXAMPLE = {
    "restaurant_id": "res_001",
    "currency": "PEN",
    "from": "2026-01-01",
    "to": "2026-01-31",
    "balance": "payable",
    "opening_balance": 11400,
    "lines": [
        {"entry_id": 7, "posted_at": "2026-01-03T15:00:01Z", "effective_at": "2026-01-03T15:00:00Z",
         "kind": "refund", "entry_type": "refund", "amount": -5000, "balance": 6400, "transaction_id": 3,
         "event_id": "evt_000124", "payout_id": None, "adjustment_id": None},
        {"entry_id": 9, "posted_at": "2026-01-10T05:00:02Z", "effective_at": "2026-01-10T05:00:02Z",
         "kind": "payout_reserve", "entry_type": "payout", "amount": -6400, "balance": 0, "transaction_id": 4,
         "event_id": None, "payout_id": "po_01JH2K8Q3V", "adjustment_id": None},
    ],
    "closing_balance": 0,
}
STATEMENT_CSV_EXAMPLE = (
    "restaurant_id,currency,line,posted_at,effective_at,kind,entry_type,amount,balance,amount_major,"
    "balance_major,event_id,payout_id,transaction_id,entry_id,adjustment_id\r\n"
    "res_001,PEN,0,2026-01-01,,opening_balance,,,11400,,114.00,,,,,\r\n"
    "res_001,PEN,1,2026-01-03T15:00:01Z,2026-01-03T15:00:00Z,refund,refund,-5000,6400,-50.00,64.00,"
    "evt_000124,,3,7,\r\n"
    "res_001,PEN,2,2026-01-10T05:00:02Z,2026-01-10T05:00:02Z,payout_reserve,payout,-6400,0,-64.00,0.00,,"
    "po_01JH2K8Q3V,4,9,\r\n"
    "res_001,PEN,3,2026-01-31,,closing_balance,,,0,,0.00,,,,,\r\n"
)


def date_parameter(name: str, description: str, example: str) -> OpenApiParameter:
    return OpenApiParameter(
        name, {"type": "string", "format": "date", "pattern": LOCAL_DATE_PATTERN}, required=True,
        description=f"{description} {ONCE}", examples=[OpenApiExample(f"{name} {example}", value=example)],
    )


class RestaurantStatementApi(APIView):
    """The restaurant's statement for a period, streamed as JSON or (Accept: text/csv) CSV."""

    permission_classes = [require_perms("ledger.view_entry")]
    renderer_classes = [JSONRenderer, StatementCSVRenderer]

    @extend_schema(
        operation_id="restaurant_statement_get",
        summary="A restaurant's statement for a period (JSON, or CSV with Accept: text/csv)",
        description=(
            "The payable balance (available + pending) by posting date: every payable entry the ledger "
            "recorded on the local days `from`…`to` (TIME_ZONE, both inclusive), in posting order, with the "
            "balance before and after. `closing_balance` = `opening_balance` + the sum of the lines' "
            "`amount`, and comes after the lines. Streamed, so any period can be asked for. "
            "`Accept: text/csv` answers the same statement as CSV, with an opening_balance and a "
            "closing_balance line around the entries.\n\n"
            "The period runs forwards: `from` must be on or before `to` (one day when equal); a `from` "
            "after `to` is 400 naming `to`, which JSON Schema cannot say of two parameters."
        ),
        parameters=[
            CURRENCY_PARAMETER,
            date_parameter("from", "First local day (YYYY-MM-DD, TIME_ZONE), inclusive; on or before `to`.",
                           "2026-01-01"),
            date_parameter("to", "Last local day (YYYY-MM-DD, TIME_ZONE), inclusive; on or after `from`, "
                           "else 400.", "2026-01-31"),
        ],
        responses={
            (200, "application/json"): StatementOutputSerializer,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The statement as CSV"),
            **PROBLEM_RESPONSES(400, 401, 403, 404, 406),
        },
        examples=[
            OpenApiExample("Statement", value=STATEMENT_EXAMPLE, response_only=True, media_type="application/json"),
            OpenApiExample("Statement as CSV", value=STATEMENT_CSV_EXAMPLE, response_only=True,
                           media_type="text/csv"),
            problem_example(
                400, "validation_error", "Invalid query parameters.",
                errors={"to": ["Must be on or after `from`."]},
                example_name="400 from after to (from=2026-02-01&to=2026-01-31)",
            ),
            *auth_examples("ledger.view_entry"),
            RESTAURANT_NOT_FOUND,
            problem_example(406, "not_acceptable", 'Could not satisfy the request Accept header.'),
        ],
        tags=["balances"],
    )
    def get(self, request, restaurant_id: str):
        statement = statement_get(restaurant_id=restaurant_id, **statement_query(request))
        if request.accepted_renderer.format == "csv":
            return statement_csv_response(statement)
        return statement_json_response(statement)

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors are problems in JSON, whatever the request accepted.
        if isinstance(response, Response):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)
ADJUSTMENT_EXAMPLE = {
    "adjustment_id": 7,
    "restaurant_id": "res_001",
    "currency": "PEN",
    "amount": -1500,
    "reason": "chargeback_fee",
    "note": "Chargeback fee for the disputed payment pay_456.",
    "reference": "cb_2025_0042",
    "status": "approved",
    "proposed_by": "mario.manager",
    "proposed_at": "2025-12-30T14:00:00Z",
    "decided_by": "ana.approver",
    "decided_at": "2025-12-30T14:20:00Z",
    "ledger_transaction_id": 1042,
}


class AdjustmentPagination(StrictCursorPagination):
    ordering = ("-proposed_at", "-id")


class AdjustmentListApi(APIView):
    """Read-only: adjustments are proposed, approved and rejected in the admin (four eyes)."""

    permission_classes = [require_perms("ledger.view_adjustment")]

    @extend_schema(
        operation_id="adjustment_list",
        summary="Manual adjustments, newest first",
        description=(
            "Cursor-paginated; follow `next` until it is null. `amount` is restaurant-facing (positive credits "
            "the restaurant). An adjustment is `pending` until a second person approves or rejects it in the "
            "admin; only an approved one has a `ledger_transaction_id`."
        ),
        parameters=[
            OpenApiParameter("restaurant_id", str, required=False, pattern=f"^{RESTAURANT_ID_PATTERN}$"),
            currency_parameter(),
            OpenApiParameter("status", str, required=False, enum=[choice.value for choice in AdjustmentStatus]),
            *pagination_parameters(),
        ],
        responses={200: AdjustmentPageOutputSerializer, **PROBLEM_RESPONSES(400, 401, 403)},
        examples=[
            OpenApiExample("Adjustments", value={"next": None, "previous": None, "results": [ADJUSTMENT_EXAMPLE]},
                           response_only=True),
            problem_example(400, "validation_error", "Invalid query parameters.",
                            errors={"status": ["Select a valid choice. done is not one of the available choices."]}),
            *auth_examples("ledger.view_adjustment"),
        ],
        tags=["adjustments"],
    )
    def get(self, request):
        adjustments = adjustment_list(**adjustment_filters_from_query(request.query_params))
        paginator = AdjustmentPagination()
        page = paginator.paginate_queryset(adjustments, request, view=self)
        return paginator.get_paginated_response(AdjustmentOutputSerializer(page, many=True).data)
