from django.urls import path, re_path

from .apis import (
    ReconciliationExceptionListApi,
    ReconciliationExceptionResolveApi,
    SettlementReportCreateApi,
    SettlementReportDetailApi,
)

urlpatterns = [
    path("reconciliation/reports", SettlementReportCreateApi.as_view(), name="settlement-report-create"),
    re_path(r"^reconciliation/reports/(?P<report_id>[A-Za-z0-9_.:-]{1,128})$", SettlementReportDetailApi.as_view(),
            name="settlement-report-detail"),
    path("reconciliation/exceptions", ReconciliationExceptionListApi.as_view(), name="reconciliation-exception-list"),
    # Any segment: the service answers exception_not_found for one that is no exception id.
    re_path(r"^reconciliation/exceptions/(?P<exception_id>[A-Za-z0-9_]{1,64})/resolve$",
            ReconciliationExceptionResolveApi.as_view(), name="reconciliation-exception-resolve"),
]
