#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

# Commands that never connect to the database: they run with none at all (the image's
# collectstatic, CI's schema, migrations and deploy checks), so nothing is started for them.
# `makemigrations` only warns when it cannot check the migration history against a database.
COMMANDS_WITHOUT_DATABASE = frozenset({
    "check", "collectstatic", "compilemessages", "diffsettings", "findstatic", "generate_events", "help",
    "makemessages", "makemigrations", "sign_event", "spectacular", "startapp", "startproject", "version",
})


def needs_database(argv: list[str]) -> bool:
    command = argv[1] if len(argv) > 1 else "help"
    if command.startswith("-"):  # --help, --version
        return False
    # `check --database NAME` runs the database's own checks.
    return command not in COMMANDS_WITHOUT_DATABASE or any(arg.startswith("--database") for arg in argv[2:])


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mesa247.settings")
    if needs_database(sys.argv):
        from mesa247 import embedded_postgres

        embedded_postgres.start_unless_configured()

    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018 - loads the settings, so a configuration error is said plainly
    except ImproperlyConfigured as exc:
        sys.exit(f"Configuration error: {exc}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
