"""The finance back office: Django's admin site with a money dashboard on its index page.

Signing in takes a password and, with ADMIN_REQUIRE_2FA (on with DEBUG off), a second factor
(staff.signin); a session that has not passed the second factor sees the login page only.
"""

from functools import partial

from django.conf import settings
from django.contrib import admin
from django.urls import path
from django.utils import timezone

from payouts.admin_selectors import dashboard_get
from payouts.admin_views import RUN_PAYOUTS_PERMISSION
from processor.selectors import disputes_open_totals
from reconciliation.selectors import open_exceptions_summary
from staff.admin_views import two_factor_view
from staff.signin import StaffSignInForm

# Who may see the dashboard's figures: anyone who may view the balances.
DASHBOARD_PERMISSION = "ledger.view_restaurantbalance"
# Who may see its reconciliation panel: anyone who may read the exceptions queue it links to.
RECONCILIATION_PANEL_PERMISSION = "reconciliation.view_reconciliationexception"


class FinanceAdminSite(admin.AdminSite):
    site_header = "Mesa 24/7 finance back office"
    site_title = "Mesa 24/7 finance"
    index_title = "Dashboard"
    login_form = StaffSignInForm

    def has_permission(self, request):
        if not super().has_permission(request):
            return False
        return not settings.ADMIN_REQUIRE_2FA or request.user.is_verified()

    def login(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "require_2fa": settings.ADMIN_REQUIRE_2FA}
        return super().login(request, extra_context)

    def get_urls(self):
        two_factor = partial(two_factor_view, each_context=self.each_context)
        return [
            path("two-factor/", self.admin_view(two_factor), name="staff_two_factor"),
            *super().get_urls(),
        ]

    def index(self, request, extra_context=None):
        extra_context = dict(extra_context or {})
        now = timezone.now()
        if request.user.has_perm(DASHBOARD_PERMISSION):
            extra_context["dashboard"] = dashboard_get(now=now, open_disputes=disputes_open_totals())
        if request.user.has_perm(RECONCILIATION_PANEL_PERMISSION):
            extra_context["reconciliation"] = open_exceptions_summary(now=now)
        extra_context["can_run_payouts"] = request.user.has_perm(RUN_PAYOUTS_PERMISSION)
        return super().index(request, extra_context)
