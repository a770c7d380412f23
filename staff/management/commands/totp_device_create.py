"""manage.py totp_device_create USERNAME: a new authenticator for a staff user, replacing any earlier one.

Prints the otpauth:// URI (for an authenticator app's "add by link" or a QR code) and, on the last
line alone, the base32 secret (for apps that take it typed in, and for scripts: `| tail -n 1`).
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from staff.devices import totp_device_create, totp_secret


class Command(BaseCommand):
    help = "Create a user's TOTP authenticator (replacing any earlier one); print its URI, then its secret."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        device = totp_device_create(user=user, confirmed=True)
        self.stdout.write(f"Authenticator for {username} (any earlier one no longer works).")
        self.stdout.write(f"URI: {device.config_url}")
        self.stdout.write(totp_secret(device))
