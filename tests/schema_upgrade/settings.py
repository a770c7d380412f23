"""The test settings, with the money apps' migrations taken from the package SCHEMA_UPGRADE_MIGRATIONS
names (a copy of the migrations as they were before the ledger lost its foreign keys)."""

import os

from mesa247.settings_test import *  # noqa: F403

_PACKAGE = os.environ["SCHEMA_UPGRADE_MIGRATIONS"]
MIGRATION_MODULES: dict[str, str | None] = {app: f"{_PACKAGE}.{app}" for app in ("ledger", "payouts", "processor")}
# Apps newer than those migrations have no tables yet: the current migrations create them on upgrade.
MIGRATION_MODULES["reconciliation"] = None
