from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from mesa247.errors import InvalidInput, validation_errors
from mesa247.money import RESTAURANT_ID_PATTERN
from mesa247.pagination import StrictCursorPagination
from mesa247.permissions import require_perms
from mesa247.schema import PROBLEM_RESPONSES, auth_examples, currency_parameter, pagination_parameters, problem_example

from .filters import adjustment_filters_from_query
from .models import AdjustmentStatus
from .selectors import adjustment_list, balance_get, balances_list, statement_entries
from .serializers import (
    AdjustmentOutputSerializer,
    AdjustmentPageOutputSerializer,
    CurrencyQuerySerializer,
    RestaurantBalanceListOutputSerializer,
    RestaurantBalanceOutputSerializer,
    StatementEntryOutputSerializer,
    StatementPageOutputSerializer,
)

CURRENCY_PARAMETER = currency_parameter("ISO 4217 code (default: DEFAULT_CURRENCY)")
BALANCE_EXAMPLE = {
    "restaurant_id": "res_001",
    "currency": "PEN",
    "available": 10800,
    "pending": 0,
    "reserved": 0,
    "last_event_at": "2025-12-30T15:00:00Z",
}
RESTAURANT_NOT_FOUND = problem_example(
    404, "restaurant_not_found", "No restaurant 'res_404' has any recorded activity."
)
UNSUPPORTED_CURRENCY = problem_example(
    400, "validation_error", "Invalid query parameters.",
    errors={"currency": ["Unsupported currency 'EUR'; use one of PEN, USD, MXN."]},
)


def currency_from_query(request) -> str:
    serializer = CurrencyQuerySerializer(data=request.query_params)
    if not serializer.is_valid():
        raise InvalidInput("Invalid query parameters.", errors=validation_errors(serializer.errors))
    return serializer.validated_data.get("currency", settings.DEFAULT_CURRENCY)


class RestaurantBalanceApi(APIView):
    permission_classes = [require_perms("ledger.view_restaurantbalance")]

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


class StatementPagination(StrictCursorPagination):
    ordering = "-id"


class RestaurantStatementApi(APIView):
    permission_classes = [require_perms("ledger.view_entry")]

    @extend_schema(
        operation_id="restaurant_statement_list",
        summary="A restaurant's statement: its ledger entries, newest first",
        description="Cursor-paginated; follow `next` until it is null.",
        parameters=[
            CURRENCY_PARAMETER,
            *pagination_parameters(),
        ],
        responses={
            200: StatementPageOutputSerializer,
            **PROBLEM_RESPONSES(400, 401, 403, 404),
        },
        examples=[
            OpenApiExample(
                "Statement",
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
            *auth_examples("ledger.view_entry"),
            RESTAURANT_NOT_FOUND,
        ],
        tags=["balances"],
    )
    def get(self, request, restaurant_id: str):
        currency = currency_from_query(request)
        entries = statement_entries(restaurant_id=restaurant_id, currency=currency)
        paginator = StatementPagination()
        page = paginator.paginate_queryset(entries, request, view=self)
        return paginator.get_paginated_response(StatementEntryOutputSerializer(page, many=True).data)


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
