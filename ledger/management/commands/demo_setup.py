"""manage.py demo_setup: the finance login, an API token and ready-to-paste curl commands for the local demo.

Idempotent: a second run keeps the users and the API token (its key is kept in a git-ignored file,
since the database holds only its hash), and gives the finance user a fresh password (only its hash
is stored, so the old one cannot be shown).
"""

import json
import secrets
import tempfile
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, Permission, User
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from access.keys import key_hash
from access.selectors import live_token_named
from access.services import api_token_create, api_token_revoke_one
from audit.models import AuditAction
from audit.services import audit_record, user_access_snapshot

FINANCE_GROUP = "Finance manager"
DEMO_TOKEN_NAME = "demo"
DEMO_KEY_FILE = Path(settings.BASE_DIR) / ".data" / "demo-api-token"
FINANCE_APPS = ("processor", "ledger", "payouts")
# Who the audit trail says granted the demo users their access.
COMMAND_ACTOR = "system:demo_setup"
API_PERMISSIONS = [
    "ledger.view_restaurantbalance",
    "ledger.view_entry",
    "payouts.view_payout",
    "payouts.view_payoutrun",
    "payouts.add_payoutrun",
]


class Command(BaseCommand):
    help = "Create (or refresh) the demo finance user and API token, and print example curl commands."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")
        parser.add_argument("--username", default="finance")
        parser.add_argument("--password", help="default: a new random password, printed")
        parser.add_argument("--event-file", help="where to write the example event (default: a temp file)")

    @transaction.atomic
    def handle(self, *args, base_url, username, password, event_file, **options):
        password = password or secrets.token_urlsafe(12)
        finance = self._finance_user(username=username, password=password)
        token_key = self._api_token()
        event_path = Path(event_file) if event_file else Path(tempfile.gettempdir()) / "mesa247-demo-event.json"
        event_path.write_text(json.dumps(self._example_event(), indent=2) + "\n")
        secret = next(iter(settings.PROCESSOR_WEBHOOK_SECRETS), "")
        # The same settings as the demo server, so that sign_event runs in a fresh terminal.
        env = ("DEBUG=true " if settings.DEBUG else "") + (f"PROCESSOR_WEBHOOK_SECRETS={secret} " if secret else "")

        self.stdout.write(self.style.SUCCESS("Mesa 24/7 payments: local demo"))
        self.stdout.write(f"""
Back office   {base_url}/admin/
  username    {finance.username}
  password    {password}
API docs      {base_url}/api/docs/
API token     {token_key}   (user demo-api: read balances, statements and payouts; start payout runs)

Try it (in another terminal, from this directory):

  # A signed charge, as the processor sends it (the signature is valid for 5 minutes, so sign right before sending):
  {env}.venv/bin/python manage.py sign_event {event_path} --curl {base_url}/v1/processor/events | sh

  # A restaurant's balance, every currency, and its statement:
  curl -s -H 'Authorization: Token {token_key}' '{base_url}/v1/restaurants/res_001/balance?currency=PEN'
  curl -s -H 'Authorization: Token {token_key}' '{base_url}/v1/restaurants/res_003/balances'
  curl -s -H 'Authorization: Token {token_key}' '{base_url}/v1/restaurants/res_001/ledger?currency=PEN'

  # Pay every PEN restaurant what is available as of 2026-01-31 (the worker executes the run):
  curl -s -X POST -H 'Authorization: Token {token_key}' -H 'Content-Type: application/json' \\
       -d '{{"currency": "PEN", "as_of": "2026-01-31", "min_amount": 5000}}' {base_url}/v1/payouts/run
  curl -s -H 'Authorization: Token {token_key}' '{base_url}/v1/payouts/runs/<run_id>'
  curl -s -H 'Authorization: Token {token_key}' '{base_url}/v1/payouts?currency=PEN'
""")

    def _finance_user(self, *, username: str, password: str) -> User:
        user, created = User.objects.get_or_create(username=username, defaults={"email": f"{username}@mesa247.local"})
        before = None if created else user_access_snapshot(user)
        user.is_staff = True
        user.set_password(password)
        user.save()
        group = Group.objects.filter(name=FINANCE_GROUP).first()
        if group is not None:
            user.groups.add(group)
        else:
            # Without the finance groups: view everything money-related, and start payout runs.
            user.user_permissions.add(
                *Permission.objects.filter(content_type__app_label__in=FINANCE_APPS, codename__startswith="view_"),
                *Permission.objects.filter(content_type__app_label="payouts", codename="add_payoutrun"),
            )
        self._access_change_record(user, before)
        return user

    def _access_change_record(self, user: User, before: dict | None) -> None:
        after = user_access_snapshot(user)
        if after != before:
            audit_record(action=AuditAction.USER_CHANGED, actor_label=COMMAND_ACTOR, obj=user, before=before,
                         after=after)

    def _api_token(self) -> str:
        """The demo API user's key. Only its hash is in the database, so the key itself is kept in
        DEMO_KEY_FILE (git-ignored, beside the checkout's database) and printed again while its token
        is live; otherwise the old token is revoked and a new one made."""
        user, created = User.objects.get_or_create(username="demo-api", defaults={"email": "demo-api@mesa247.local"})
        before = None if created else user_access_snapshot(user)
        for dotted in API_PERMISSIONS:
            app_label, codename = dotted.split(".")
            user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        self._access_change_record(user, before)
        kept = DEMO_KEY_FILE.read_text().strip() if DEMO_KEY_FILE.exists() else ""
        live = live_token_named(user=user, name=DEMO_TOKEN_NAME)
        if live is not None and kept and live.key_hash == key_hash(kept) and live.expires_at > timezone.now():
            return kept
        if live is not None:
            api_token_revoke_one(token=live, actor_label=COMMAND_ACTOR)
        key = api_token_create(user=user, name=DEMO_TOKEN_NAME, actor_label=COMMAND_ACTOR).key
        DEMO_KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
        DEMO_KEY_FILE.touch(mode=0o600)
        DEMO_KEY_FILE.write_text(key + "\n")
        return key

    def _example_event(self) -> dict:
        now = timezone.now().replace(microsecond=0)
        return {
            "event_id": f"evt_demo_{now:%Y%m%d%H%M%S}",
            "event_type": "charge_succeeded",
            "occurred_at": now.isoformat().replace("+00:00", "Z"),
            "restaurant_id": "res_001",
            "currency": "PEN",
            "amount": 12000,
            "fee": 600,
            "metadata": {"reservation_id": "rsv_demo", "payment_id": f"pay_demo_{now:%Y%m%d%H%M%S}"},
        }
