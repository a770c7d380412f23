"""The disputes the processor reported: read with an API token or an admin session (`view_dispute`)."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from mesa247.identifiers import EVENT_ID_PATTERN, RESTAURANT_ID_PATTERN
from mesa247.pagination import StrictCursorPagination
from mesa247.permissions import require_perms
from mesa247.schema import PROBLEM_RESPONSES, auth_examples, currency_parameter, pagination_parameters, problem_example

from .filters import dispute_filters_from_query
from .models import DisputeStatus
from .selectors import dispute_get, dispute_list
from .serializers import DisputeOutputSerializer, DisputePageOutputSerializer

VIEW_DISPUTE = "processor.view_dispute"
DISPUTE_EXAMPLE = {
    "dispute_id": "dp_000042",
    "payment_id": "pay_456",
    "restaurant_id": "res_001",
    "currency": "PEN",
    "amount": 12000,
    "fee": 1500,
    "status": "won",
    "reinstated": 12000,
    "fee_returned": 0,
    "opened_at": "2026-01-03T12:00:00Z",
    "closed_at": "2026-01-20T09:30:00Z",
}


class DisputePagination(StrictCursorPagination):
    ordering = ("-id",)


class DisputeListApi(APIView):
    permission_classes = [require_perms(VIEW_DISPUTE)]

    @extend_schema(
        operation_id="dispute_list",
        summary="Disputes, newest first",
        description="Cursor-paginated; follow `next` until it is null.",
        parameters=[
            OpenApiParameter("restaurant_id", str, required=False, pattern=f"^{RESTAURANT_ID_PATTERN}$"),
            OpenApiParameter("status", str, required=False, enum=[choice.value for choice in DisputeStatus]),
            currency_parameter(),
            *pagination_parameters(),
        ],
        responses={200: DisputePageOutputSerializer, **PROBLEM_RESPONSES(400, 401, 403)},
        examples=[
            OpenApiExample("Disputes", value={"next": None, "previous": None, "results": [DISPUTE_EXAMPLE]},
                           response_only=True),
            problem_example(400, "validation_error", "Invalid query parameters.",
                            errors={"status": ["Select a valid choice. closed is not one of the available choices."]}),
            *auth_examples(VIEW_DISPUTE),
        ],
        tags=["disputes"],
    )
    def get(self, request):
        disputes = dispute_list(**dispute_filters_from_query(request.query_params))
        paginator = DisputePagination()
        page = paginator.paginate_queryset(disputes, request, view=self)
        return paginator.get_paginated_response(DisputeOutputSerializer(page, many=True).data)


class DisputeDetailApi(APIView):
    permission_classes = [require_perms(VIEW_DISPUTE)]

    @extend_schema(
        operation_id="dispute_get",
        summary="One dispute",
        description="What the processor withdrew when it opened, and what a won decision gave back.",
        parameters=[OpenApiParameter("dispute_id", str, OpenApiParameter.PATH, pattern=f"^{EVENT_ID_PATTERN}$")],
        responses={200: DisputeOutputSerializer, **PROBLEM_RESPONSES(401, 403, 404)},
        examples=[
            OpenApiExample("Dispute", value=DISPUTE_EXAMPLE, response_only=True),
            *auth_examples(VIEW_DISPUTE),
            problem_example(404, "dispute_not_found", "No dispute 'dp_unknown' exists.", dispute_id="dp_unknown"),
        ],
        tags=["disputes"],
    )
    def get(self, request, dispute_id: str):
        return Response(DisputeOutputSerializer(dispute_get(dispute_id=dispute_id)).data)
