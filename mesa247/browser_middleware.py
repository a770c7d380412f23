"""The browser's middleware (session, signed-in user, messages), skipped for API calls without a session.

A `/v1/` call authenticated by an API token or a webhook signature carries no session cookie:
loading an empty session, a lazy anonymous user and a message store for it costs CPU on every
call and changes nothing in the answer (DRF authenticates it itself). A call that carries the
session cookie, as the API docs' "Try it out" from a signed-in browser does, goes through all of
them as before. These are subclasses of Django's own, so the admin's system checks still find
them in MIDDLEWARE.
"""

from django.conf import settings
from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions

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


class AuthenticationMiddleware(_SkippedForApiCallsWithoutSession, auth.AuthenticationMiddleware):
    pass


class MessageMiddleware(_SkippedForApiCallsWithoutSession, messages.MessageMiddleware):
    pass
