"""manage.py api_token_create USERNAME [--name NAME] [--expires-in DAYS]: a new API token, printed once.

The key is printed alone on the last line, so a script can take it with `tail -n 1`; only its
hash is stored, so it cannot be shown again.
"""

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from access.services import DEFAULT_TOKEN_NAME, api_token_create
from mesa247.domain_errors import ApplicationError


class Command(BaseCommand):
    help = "Create an API token for USERNAME and print its key (alone on the last line; shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default=DEFAULT_TOKEN_NAME,
                            help=f"what the token is for (default {DEFAULT_TOKEN_NAME!r})")
        parser.add_argument("--expires-in", type=int, metavar="DAYS",
                            help="days until it expires (default API_TOKEN_TTL_DAYS)")

    def handle(self, *args, username, name, expires_in, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        try:
            created = api_token_create(user=user, name=name, expires_in_days=expires_in,
                                       actor_label="system:api_token_create")
        except ApplicationError as error:
            raise CommandError(error.detail) from error
        token = created.token
        self.stdout.write(f"API token {token.name!r} for {username}, expires {token.expires_at:%Y-%m-%d %H:%M %Z}. "
                          "Copy it now: it is not stored and cannot be shown again.")
        self.stdout.write(created.key)
