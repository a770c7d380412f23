"""The back office's sign-in: password plus a second factor, and what a sign-in attempt leaves behind.

The admin's login form carries `username`, `password` and `otp_token` (outside tooling posts those
names). With ADMIN_REQUIRE_2FA on, `otp_token` is a 6-digit code of the user's authenticator or one
of their recovery codes; a wrong or replayed code fails the sign-in like a wrong password does.

Every attempt ends in one of Django's or django-axes' signals, which is where a record of sign-ins
hooks in: `user_logged_in` (succeeded), `user_login_failed` (failed: password, or second factor —
sent here for the latter, with the same `credentials` and `request`), `axes.signals.user_locked_out`
(locked). The receivers below count them for /metrics, log them, and stamp the session's sign-in time.
"""

import logging
import time

from axes.helpers import get_cool_off
from axes.signals import user_locked_out
from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.shortcuts import render
from django_otp.forms import OTPAuthenticationFormMixin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from mesa247 import metrics
from mesa247.browser_middleware import LAST_SEEN_AT, SIGNED_IN_AT
from mesa247.client_address import client_address

logger = logging.getLogger(__name__)

TOTP_DIGITS = 6


class StaffSignInForm(OTPAuthenticationFormMixin, AdminAuthenticationForm):
    otp_token = forms.CharField(
        label="Authenticator code",
        required=False,
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text="The 6-digit code of your authenticator app, or one of your recovery codes.",
    )
    otp_error_messages = dict(
        OTPAuthenticationFormMixin.otp_error_messages,
        token_required="Enter the code of your authenticator app.",
        invalid_token="That code is not valid (or was already used). Enter the current code.",
        device_required="No authenticator or recovery code is set up for this user: ask an administrator.",
    )

    def clean(self):
        self.cleaned_data = super().clean()  # the password (django-axes refuses a locked user or address first)
        if settings.ADMIN_REQUIRE_2FA:
            try:
                self.clean_otp(self.get_user())
            except forms.ValidationError:
                # A right password with a wrong code counts as a failed sign-in, for the lockout too.
                user_login_failed.send(
                    sender=__name__, credentials={"username": self.cleaned_data.get("username")},
                    request=self.request,
                )
                raise
        return self.cleaned_data

    def _chosen_device(self, user):
        """The device the code belongs to: 6 digits are the authenticator's, anything else a recovery code."""
        token = (self.cleaned_data.get("otp_token") or "").strip()
        self.cleaned_data["otp_token"] = token
        model = TOTPDevice if token.isdigit() and len(token) == TOTP_DIGITS else StaticDevice
        # Locked, so that two sign-ins with one code cannot both pass the replay check.
        return model.objects.select_for_update().filter(user=user, confirmed=True).first()


def locked_out_response(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out sign-in: 429, a page saying until when, and Retry-After."""
    seconds = int(get_cool_off(request).total_seconds())
    context = {**admin.site.each_context(request), "title": "Sign-in locked", "minutes": seconds // 60,
               "failure_limit": settings.AXES_FAILURE_LIMIT}
    response = render(request, "admin/staff/locked_out.html", context, status=429)
    response["Retry-After"] = str(seconds)
    metrics.signin_counted("locked_out")
    return response


@receiver(user_logged_in, dispatch_uid="staff_signin_succeeded")
def signin_succeeded(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    now = time.time()
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_SEEN_AT] = now
    metrics.signin_counted("succeeded")
    logger.info("staff sign-in succeeded", extra={"username": user.get_username(),
                                                   "address": client_address(request)})


@receiver(user_login_failed, dispatch_uid="staff_signin_failed")
def signin_failed(sender, credentials, request=None, **kwargs) -> None:
    if request is None:
        return
    metrics.signin_counted("failed")
    logger.warning("staff sign-in failed", extra={"username": (credentials or {}).get("username"),
                                                   "address": client_address(request)})


@receiver(user_locked_out, dispatch_uid="staff_signin_locked_out")
def signin_locked_out(sender, request, username, ip_address, **kwargs) -> None:
    logger.warning("staff sign-in locked out", extra={"username": username, "address": ip_address})
