"""manage.py database_service_role ROLE: give the service's own database role its rights, and no more."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from ledger.database_role import RoleNotUsable, service_role_grant, service_role_statements


class Command(BaseCommand):
    help = (
        "Grant ROLE (neither a superuser nor the tables' owner) what the web and worker processes use: "
        "reads and writes, but no UPDATE or DELETE of append-only money records and no TRUNCATE. "
        "Run it as the tables' owner after `migrate`; it is safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("role", help="the role the service connects as (DATABASE_URL of web and worker)")
        parser.add_argument("--print", action="store_true", dest="print_only",
                            help="print the statements instead of running them")

    def handle(self, *args, role, print_only, **options):
        if print_only:
            for statement in service_role_statements(role=role):
                self.stdout.write(f"{statement};")
            return
        try:
            with transaction.atomic():
                statements = service_role_grant(role=role)
        except RoleNotUsable as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Granted {role} the service's rights ({len(statements)} statements).")
