from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from audit import urls as audit_urls
from ledger import urls as ledger_urls
from payouts import urls as payouts_urls
from processor import urls as processor_urls
from reconciliation import urls as reconciliation_urls

from . import errors, health, monitoring

handler400 = errors.handler400
handler403 = errors.handler403
handler404 = errors.handler404
handler500 = errors.handler500

# One flat list: an app's include() that does not match raises and records every pattern it
# tried, which cost a balance read about a tenth of its CPU; a plain pattern that does not match
# costs one regex.
v1 = [
    *processor_urls.urlpatterns,
    *ledger_urls.urlpatterns,
    *payouts_urls.urlpatterns,
    *audit_urls.urlpatterns,
    *reconciliation_urls.urlpatterns,
    # Anything else under /v1/ answers a JSON 404, in DEBUG too.
    re_path(r"^.*$", errors.json_not_found),
]

urlpatterns = [
    path("v1/", include(v1)),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", monitoring.metrics, name="metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view loads its start-up script from a URL, so the Content-Security-Policy needs no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("admin/", admin.site.urls),
]
