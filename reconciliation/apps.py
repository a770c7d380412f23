from pathlib import Path

from django.apps import AppConfig


class ReconciliationConfig(AppConfig):
    name = "reconciliation"
    verbose_name = "Reconciliation"

    def ready(self):
        from ledger.integrity import ledger_checks_register

        # `ledger_check` reports a dropped or disabled trigger of this app's rules (reconciliation/sql/).
        ledger_checks_register(rules_directory=Path(__file__).resolve().parent / "sql")
