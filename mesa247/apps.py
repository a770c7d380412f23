from django.contrib.admin.apps import AdminConfig


class FinanceAdminConfig(AdminConfig):
    """Installed instead of `django.contrib.admin`, so `admin.site` is the finance site.

    The site is named, not imported: Django loads it once the apps' models are ready.
    """

    default_site = "mesa247.admin_site.FinanceAdminSite"
