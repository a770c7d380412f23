"""manage.py recovery_codes_create USERNAME: ten new single-use recovery codes, one a line.

The codes go to stdout alone (for a script); what they are goes to stderr. The old set stops working.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from staff.devices import RECOVERY_CODE_COUNT, recovery_codes_create


class Command(BaseCommand):
    help = "Replace a user's recovery codes with new single-use ones and print them (shown once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--count", type=int, default=RECOVERY_CODE_COUNT)

    def handle(self, *args, username, count, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not 1 <= count <= 100:
            raise CommandError("--count must be between 1 and 100.")
        codes = recovery_codes_create(user=user, count=count)
        self.stderr.write(
            f"{count} recovery codes for {username}, each good for one sign-in (earlier ones no longer work):"
        )
        for code in codes:
            self.stdout.write(code)
