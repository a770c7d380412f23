"""Second-factor devices of a staff user: one authenticator (TOTP) and a set of recovery codes.

A user holds at most one confirmed authenticator: confirming a new one (from the admin, or the
command, which confirms at once) replaces the old, so a lost phone is retired by enrolling again.
Recovery codes are django-otp's static tokens, each good for one sign-in; a new set replaces the old.
"""

from base64 import b32encode

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

AUTHENTICATOR_NAME = "authenticator"
RECOVERY_CODES_NAME = "recovery codes"
RECOVERY_CODE_COUNT = 10


def totp_secret(device: TOTPDevice) -> str:
    """The base32 secret an authenticator app takes (RFC 6238: 30 s steps, 6 digits, SHA-1)."""
    return b32encode(device.bin_key).decode()


@transaction.atomic
def totp_device_create(*, user: AbstractBaseUser, confirmed: bool) -> TOTPDevice:
    """A new authenticator for `user`; confirmed at once (the command) or after a first code (the admin)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    if confirmed:
        totp_device_confirm(device=device)
    return device


@transaction.atomic
def totp_device_confirm(*, device: TOTPDevice) -> None:
    """Make `device` the user's authenticator; any other stops working."""
    TOTPDevice.objects.filter(user_id=device.user_id).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])


@transaction.atomic
def recovery_codes_create(*, user: AbstractBaseUser, count: int = RECOVERY_CODE_COUNT) -> list[str]:
    """`count` new single-use codes for `user`, replacing any earlier set. Shown once: keep them."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_CODES_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(count)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes
