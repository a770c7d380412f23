"""drf-spectacular's settings: the OpenAPI document's title and description, and the names of its enums.

Plain data, read by mesa247/settings.py (SPECTACULAR_SETTINGS); `make schema` writes the document.
"""

OPENAPI_SETTINGS = {
    "TITLE": "Mesa 24/7 Payments API",
    "DESCRIPTION": (
        "Processor webhooks, restaurant balances and statements, and payouts. "
        "Amounts are integers in minor units; errors are RFC 9457 problem details."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "PayoutRunStatusEnum": "payouts.models.PayoutRunStatus",
        "PayoutStatusEnum": "payouts.models.PayoutStatus",
        "SettlementReportStatusEnum": "reconciliation.models.ReportStatus",
        "EventTypeEnum": "processor.models.EventType",
        "AdjustmentStatusEnum": "ledger.models.AdjustmentStatus",
        "AdjustmentReasonEnum": "ledger.models.AdjustmentReason",
        # The two kinds of processor events, which the event schema tells apart (processor.serializers).
        "MoneyEventTypeEnum": "processor.models.MONEY_EVENT_TYPES",
        "PayoutEventTypeEnum": "processor.models.PAYOUT_EVENT_TYPES",
        # Each dispute event has its own rules, so its own branch of the event schema.
        "DisputeOpenedEventTypeEnum": ["dispute_opened"],
        "DisputeWonEventTypeEnum": ["dispute_won"],
        "DisputeLostEventTypeEnum": ["dispute_lost"],
    },
}
