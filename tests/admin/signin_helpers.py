"""Signing in to the back office as a person does: the login form's three fields, a code from the secret."""

from base64 import b32decode

from django.test import Client
from django_otp.oath import totp

LOGIN_URL = "/admin/login/?next=/admin/"


def totp_code(secret: str) -> str:
    """The current 6-digit code of a base32 secret (RFC 6238: 30 s steps), as an authenticator app shows it."""
    return f"{totp(b32decode(secret), step=30, digits=6):06d}"


def sign_in(client: Client, username: str, password: str, otp_token: str = "", **headers):
    return client.post(LOGIN_URL, {"username": username, "password": password, "otp_token": otp_token}, **headers)


def signed_in(client: Client) -> bool:
    """Whether the back office lets this client in (its index page, not the login form)."""
    return client.get("/admin/").status_code == 200
