"""The admin page where a signed-in staff member sets up their authenticator and recovery codes.

A new authenticator starts unconfirmed: its secret and URI are shown, and it replaces the current
one only once the user has typed a code it produced (so a slip while scanning locks nobody out).
Recovery codes are shown once, right after they are made; only their number is shown later.
"""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff.devices import recovery_codes_create, totp_device_confirm, totp_device_create, totp_secret


class AuthenticatorConfirmForm(forms.Form):
    otp_token = forms.CharField(label="Code from the new authenticator", max_length=6, min_length=6,
                                widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}))


def two_factor_view(request, *, each_context):
    user = request.user
    context = {**each_context(request), "title": "Two-factor sign-in", "confirm_form": AuthenticatorConfirmForm()}
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "new_authenticator":
        totp_device_create(user=user, confirmed=False)
    elif action == "confirm_authenticator":
        pending = TOTPDevice.objects.filter(user=user, confirmed=False).first()
        form = AuthenticatorConfirmForm(request.POST)
        if pending is not None and form.is_valid() and pending.verify_token(form.cleaned_data["otp_token"]):
            totp_device_confirm(device=pending)
            otp_login(request, pending)  # this session's second factor is now the new device (the old is gone)
            messages.success(request, "Your new authenticator is set up; any earlier one no longer works.")
            return redirect(request.path)
        form.add_error(None, "That code does not match the new authenticator. Enter the code it shows now.")
        context["confirm_form"] = form
    elif action == "recovery_codes":
        context["recovery_codes"] = recovery_codes_create(user=user)
    pending = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if pending is not None:
        context["pending_secret"] = totp_secret(pending)
        context["pending_uri"] = pending.config_url
    context["has_authenticator"] = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    context["recovery_codes_left"] = StaticToken.objects.filter(device__user=user, device__confirmed=True).count()
    return TemplateResponse(request, "admin/staff/two_factor.html", context)
