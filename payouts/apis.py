from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.edge import audit_origin
from ledger.selectors import restaurant_get
from mesa247.errors import InvalidInput
from mesa247.identifiers import RESTAURANT_ID_PATTERN
from mesa247.pagination import StrictCursorPagination
from mesa247.permissions import require_perms
from mesa247.schema import PROBLEM_RESPONSES, auth_examples, currency_parameter, pagination_parameters, problem_example

from .filters import payout_filters_from_query
from .models import PayoutStatus
from .selectors import payout_get, payout_holds_list, payout_list, payout_run_get
from .serializers import (
    PayoutHoldListOutputSerializer,
    PayoutOutputSerializer,
    PayoutPageOutputSerializer,
    PayoutRunCreateInputSerializer,
    PayoutRunCreateOutputSerializer,
    PayoutRunOutputSerializer,
)
from .services import payout_run_request

RUN_ID_EXAMPLE = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f"
PAYOUT_EXAMPLE = {
    "payout_id": "po_5f0c1a2b3c4d5e6f7a8b9c0d",
    "restaurant_id": "res_001",
    "currency": "PEN",
    "amount": 51800,
    "status": "created",
    "as_of": "2025-12-30",
    "run_id": RUN_ID_EXAMPLE,
    "created_at": "2025-12-31T06:00:01Z",
    "paid_at": None,
    "failed_at": None,
    "failure_reason": None,
    "items": [
        {"type": "gross_sales", "amount": 60000, "count": 4},
        {"type": "fees", "amount": -3000, "count": 4},
        {"type": "refunds", "amount": -5200, "count": 1},
        {"type": "fee_refunds", "amount": 0, "count": 0},
        {"type": "adjustments", "amount": 0, "count": 0},
        {"type": "carried_balance", "amount": 0},
    ],
}
RUN_EXAMPLE = {
    "run_id": RUN_ID_EXAMPLE,
    "status": "succeeded",
    "currency": "PEN",
    "as_of": "2025-12-30",
    "min_amount": 5000,
    "eligible": 120,
    "created": 87,
    "skipped": 32,
    "held": 1,
    "respect_schedules": False,
    "total_amount": 4512300,
    "attempts": 1,
    "requested_at": "2025-12-31T06:00:00Z",
    "started_at": "2025-12-31T06:00:01Z",
    "finished_at": "2025-12-31T06:00:09Z",
    "error": None,
}


class PayoutRunCreateApi(APIView):
    permission_classes = [require_perms("payouts.add_payoutrun")]

    @extend_schema(
        operation_id="payout_run_create",
        summary="Start a payout run (executed by a worker)",
        description=(
            "Queues a run for every restaurant with activity in the currency. The run executes in a "
            "django-q2 worker; follow `Location` to watch it. Restaurants whose payouts are held are not paid "
            "(counted in the run's `held`). With `\"respect_schedules\": true` only the restaurants whose payout "
            "schedule is due today (TIME_ZONE) are paid, each at no less than its schedule's minimum."
        ),
        request=PayoutRunCreateInputSerializer,
        responses={
            202: OpenApiResponse(PayoutRunCreateOutputSerializer, description="Queued"),
            **PROBLEM_RESPONSES(400, 401, 403, 413, 415),
        },
        examples=[
            OpenApiExample("Run request", value={"currency": "PEN", "as_of": "2025-12-30", "min_amount": 5000},
                           request_only=True),
            OpenApiExample(
                "Queued",
                value={"run_id": RUN_ID_EXAMPLE, "status": "queued", "currency": "PEN", "as_of": "2025-12-30",
                       "min_amount": 5000, "respect_schedules": False},
                response_only=True,
                status_codes=["202"],
            ),
            problem_example(400, "validation_error", "One or more fields are invalid.",
                            errors={"as_of": ["Must not be in the future: today is 2025-12-30 in America/Lima."]}),
            *auth_examples("payouts.add_payoutrun"),
            problem_example(413, "payload_too_large", "The body is over the upload size limit."),
            problem_example(415, "unsupported_media_type",
                            'Unsupported media type "application/x-www-form-urlencoded" in request.'),
        ],
        tags=["payouts"],
    )
    def post(self, request):
        if not isinstance(request.data, dict):
            raise InvalidInput("The body must be a JSON object.",
                               errors={"non_field_errors": ["Expected a JSON object."]})
        serializer = PayoutRunCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        origin = audit_origin(request)
        run = payout_run_request(**serializer.validated_data, requested_by=origin["actor"],
                                 actor_label=origin["actor_label"], address=origin["address"], via="api")
        return Response(
            PayoutRunCreateOutputSerializer(run).data,
            status=202,
            headers={"Location": f"/v1/payouts/runs/{run.pk}"},
        )


class PayoutRunDetailApi(APIView):
    permission_classes = [require_perms("payouts.view_payoutrun")]

    @extend_schema(
        operation_id="payout_run_get",
        summary="A payout run's status and counts",
        parameters=[OpenApiParameter("run_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        responses={200: PayoutRunOutputSerializer, **PROBLEM_RESPONSES(401, 403, 404)},
        examples=[
            OpenApiExample("Succeeded", value=RUN_EXAMPLE, response_only=True),
            *auth_examples("payouts.view_payoutrun"),
            problem_example(404, "payout_run_not_found", f"No payout run '{RUN_ID_EXAMPLE}' exists.",
                            run_id=RUN_ID_EXAMPLE),
        ],
        tags=["payouts"],
    )
    def get(self, request, run_id):
        return Response(PayoutRunOutputSerializer(payout_run_get(run_id=run_id)).data)


class PayoutDetailApi(APIView):
    permission_classes = [require_perms("payouts.view_payout")]

    @extend_schema(
        operation_id="payout_get",
        summary="A payout with its items",
        description="Items sum exactly to `amount`.",
        responses={200: PayoutOutputSerializer, **PROBLEM_RESPONSES(401, 403, 404)},
        examples=[
            OpenApiExample("Payout", value=PAYOUT_EXAMPLE, response_only=True),
            *auth_examples("payouts.view_payout"),
            problem_example(404, "payout_not_found", "No payout 'po_unknown' exists.", payout_id="po_unknown"),
        ],
        tags=["payouts"],
    )
    def get(self, request, payout_id: str):
        return Response(PayoutOutputSerializer(payout_get(payout_id=payout_id)).data)


class PayoutPagination(StrictCursorPagination):
    ordering = ("-created_at", "-id")


class PayoutListApi(APIView):
    permission_classes = [require_perms("payouts.view_payout")]

    @extend_schema(
        operation_id="payout_list",
        summary="Payouts, newest first",
        description="Cursor-paginated; follow `next` until it is null.",
        parameters=[
            OpenApiParameter("restaurant_id", str, required=False, pattern=f"^{RESTAURANT_ID_PATTERN}$"),
            OpenApiParameter("status", str, required=False, enum=[choice.value for choice in PayoutStatus]),
            currency_parameter(),
            OpenApiParameter("as_of", OpenApiTypes.DATE, required=False, description="YYYY-MM-DD"),
            *pagination_parameters(),
        ],
        responses={200: PayoutPageOutputSerializer, **PROBLEM_RESPONSES(400, 401, 403)},
        examples=[
            OpenApiExample("Payouts", value={"next": None, "previous": None, "results": [PAYOUT_EXAMPLE]},
                           response_only=True),
            problem_example(400, "validation_error", "Invalid query parameters.",
                            errors={"status": ["Select a valid choice. sent is not one of the available choices."]}),
            *auth_examples("payouts.view_payout"),
        ],
        tags=["payouts"],
    )
    def get(self, request):
        payouts = payout_list(**payout_filters_from_query(request.query_params))
        paginator = PayoutPagination()
        page = paginator.paginate_queryset(payouts, request, view=self)
        return paginator.get_paginated_response(PayoutOutputSerializer(page, many=True).data)


HOLD_EXAMPLE = {
    "hold_id": 7,
    "restaurant_id": "res_001",
    "currency": None,
    "reason": "Chargeback investigation",
    "status": "released",
    "placed_by": "ana",
    "placed_at": "2025-12-29T14:00:00Z",
    "released_by": "bruno",
    "released_at": "2025-12-30T09:30:00Z",
}


class RestaurantHoldListApi(APIView):
    permission_classes = [require_perms("payouts.view_payouthold")]

    @extend_schema(
        operation_id="restaurant_payout_holds_list",
        summary="A restaurant's payout holds, newest first",
        description=(
            "Every hold placed on the restaurant's payouts (`currency` null: every currency), with who placed it "
            "and when, and for a released one who released it and when. Holds are placed and released by "
            "finance managers in the admin; a release takes a second manager."
        ),
        responses={200: PayoutHoldListOutputSerializer, **PROBLEM_RESPONSES(401, 403, 404)},
        examples=[
            OpenApiExample("Holds", value={"restaurant_id": "res_001", "holds": [HOLD_EXAMPLE]}, response_only=True),
            *auth_examples("payouts.view_payouthold"),
            problem_example(404, "restaurant_not_found", "No restaurant 'res_404' has any recorded activity."),
        ],
        tags=["payouts"],
    )
    def get(self, request, restaurant_id: str):
        restaurant_get(restaurant_id=restaurant_id)
        holds = payout_holds_list(restaurant_id=restaurant_id)
        return Response(PayoutHoldListOutputSerializer({"restaurant_id": restaurant_id, "holds": holds}).data)
