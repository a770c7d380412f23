"""The finance back office: Django's admin site with a money dashboard on its index page."""

from django.contrib import admin
from django.utils import timezone

from payouts.admin_selectors import dashboard_get
from payouts.admin_views import RUN_PAYOUTS_PERMISSION

# Who may see the dashboard's figures: anyone who may view the balances.
DASHBOARD_PERMISSION = "ledger.view_restaurantbalance"


class FinanceAdminSite(admin.AdminSite):
    site_header = "Mesa 24/7 finance back office"
    site_title = "Mesa 24/7 finance"
    index_title = "Dashboard"

    def index(self, request, extra_context=None):
        extra_context = dict(extra_context or {})
        if request.user.has_perm(DASHBOARD_PERMISSION):
            extra_context["dashboard"] = dashboard_get(now=timezone.now())
        extra_context["can_run_payouts"] = request.user.has_perm(RUN_PAYOUTS_PERMISSION)
        return super().index(request, extra_context)
