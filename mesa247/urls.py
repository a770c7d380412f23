from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import errors, health, monitoring

handler400 = errors.handler400
handler403 = errors.handler403
handler404 = errors.handler404
handler500 = errors.handler500

v1 = [
    path("", include("processor.urls")),
    path("", include("ledger.urls")),
    path("", include("payouts.urls")),
    # Anything else under /v1/ answers a JSON 404, in DEBUG too.
    re_path(r"^.*$", errors.json_not_found),
]

urlpatterns = [
    path("v1/", include(v1)),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", monitoring.metrics, name="metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("admin/", admin.site.urls),
]
