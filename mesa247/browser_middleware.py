"""The browser's middleware (session, signed-in user, messages), skipped for API calls without a session.

A `/v1/` call authenticated by an API token or a webhook signature carries no session cookie:
loading an empty session, a lazy anonymous user and a message store for it costs CPU on every
call and changes nothing in the answer (DRF authenticates it itself). A call that carries the
session cookie, as the API docs' "Try it out" from a signed-in browser does, goes through all of
them as before. These are subclasses of Django's own, so the admin's system checks still find
them in MIDDLEWARE. The same holds for the back office's own layers (second factor, sign-in
lockout, session lifetime, Content-Security-Policy): none of them runs for such a call.
"""

import time

from axes import middleware as axes_middleware
from csp import middleware as csp_middleware
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import logout
from django.contrib.auth import middleware as auth_middleware
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django_otp import middleware as otp_middleware

API_PREFIX = "/v1/"


def is_api_call_without_session(request) -> bool:
    return request.path_info.startswith(API_PREFIX) and settings.SESSION_COOKIE_NAME not in request.COOKIES


class _SkippedForApiCallsWithoutSession:
    def __call__(self, request):
        if is_api_call_without_session(request):
            return self.get_response(request)
        return super().__call__(request)


class SessionMiddleware(_SkippedForApiCallsWithoutSession, sessions.SessionMiddleware):
    pass


class AuthenticationMiddleware(_SkippedForApiCallsWithoutSession, auth_middleware.AuthenticationMiddleware):
    pass


class MessageMiddleware(_SkippedForApiCallsWithoutSession, messages.MessageMiddleware):
    pass


class OTPMiddleware(_SkippedForApiCallsWithoutSession, otp_middleware.OTPMiddleware):
    pass


class AxesMiddleware(_SkippedForApiCallsWithoutSession, axes_middleware.AxesMiddleware):
    pass


class ContentSecurityPolicyMiddleware(csp_middleware.CSPMiddleware):
    """django-csp's header on every page but the API's: a JSON answer runs no script."""

    def __call__(self, request):
        if request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        return super().__call__(request)


# Session keys of a staff sign-in (stamped by staff.signin when Django's user_logged_in fires).
SIGNED_IN_AT = "staff_signed_in_at"
LAST_SEEN_AT = "staff_last_seen_at"
# The session is written (its expiry pushed back) at most this often, not on every page.
LAST_SEEN_REFRESH_SECONDS = 60


class StaffSessionLifetimeMiddleware:
    """Ends a signed-in session idle for ADMIN_SESSION_IDLE_MINUTES or signed in ADMIN_SESSION_MAX_HOURS ago.

    The idle limit counts from the session's last renewal, and a page renews it only a minute or
    more after the previous renewal (a write per page would cost every admin page a query): a
    session ends after 14 to 15 idle minutes, never later. The stored session itself expires a
    minute after the limit (SESSION_COOKIE_AGE), so an abandoned one leaves the database too.
    A signed-in session without a sign-in time predates these limits: it ends.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_api_call_without_session(request):
            self._enforce(request)
        return self.get_response(request)

    @staticmethod
    def _enforce(request) -> None:
        session = request.session
        if auth.SESSION_KEY not in session:
            return
        now = time.time()
        signed_in_at = session.get(SIGNED_IN_AT)
        last_seen_at = session.get(LAST_SEEN_AT, signed_in_at)
        if (
            signed_in_at is None
            or now - signed_in_at > settings.ADMIN_SESSION_MAX_HOURS * 3600
            or now - last_seen_at > settings.ADMIN_SESSION_IDLE_MINUTES * 60
        ):
            logout(request)
        elif now - last_seen_at >= LAST_SEEN_REFRESH_SECONDS:
            session[LAST_SEEN_AT] = now
