"""manage.py api_token_revoke USERNAME --name NAME: the user's live token of that name stops working at once."""

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from access.services import api_token_revoke
from mesa247.domain_errors import ApplicationError


class Command(BaseCommand):
    help = "Revoke USERNAME's live API token named NAME; it is refused from the next request on."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="the token's name")

    def handle(self, *args, username, name, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        try:
            token = api_token_revoke(user=user, name=name, actor_label="system:api_token_revoke")
        except ApplicationError as error:
            raise CommandError(error.detail) from error
        self.stdout.write(f"Revoked API token {token.name!r} ({token.prefix}…) of {username}.")
