"""Sign a JSON event the way the processor does, for trying the API by hand.

    manage.py sign_event event.json                 # prints the X-Mesa-Signature value
    manage.py sign_event event.json --curl http://127.0.0.1:8000/v1/processor/events
    cat event.json | manage.py sign_event -

The signature covers the exact bytes of the file, so the curl command sends
the file itself (`--data-binary @FILE`); with `-` the body is embedded.
"""

import shlex
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mesa247.errors import MalformedJson
from mesa247.parsers import json_strict_loads
from processor.signature import SIGNATURE_HEADER, signature_header


class Command(BaseCommand):
    help = "Print the X-Mesa-Signature header for a JSON event file (or a ready curl command with --curl URL)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to the JSON body, or - to read standard input.")
        parser.add_argument("--secret", help="Signing secret (default: the first of PROCESSOR_WEBHOOK_SECRETS).")
        parser.add_argument("--timestamp", type=int, help="Unix time to sign with (default: now).")
        parser.add_argument("--curl", metavar="URL", help="Print a curl command that POSTs the signed body to URL.")

    def handle(self, *args, file: str, secret: str | None, timestamp: int | None, curl: str | None, **options):
        body = self._read(file)
        try:
            json_strict_loads(body)
        except MalformedJson as exc:
            raise CommandError(f"{file} is not valid JSON: {exc.detail}") from None
        secret = secret or next(iter(settings.PROCESSOR_WEBHOOK_SECRETS), None)
        if not secret:
            raise CommandError("No secret: set PROCESSOR_WEBHOOK_SECRETS or pass --secret.")
        timestamp = int(time.time()) if timestamp is None else timestamp
        header = signature_header(secret=secret, body=body, timestamp=timestamp)
        if not curl:
            self.stdout.write(header)
            return
        data = f"@{file}" if file != "-" else body.decode()
        command = [
            "curl", "-sS", "-i", "-X", "POST", curl,
            "-H", "Content-Type: application/json",
            "-H", f"{SIGNATURE_HEADER}: {header}",
            "--data-binary", data,
        ]
        self.stdout.write(" ".join(shlex.quote(part) for part in command))

    def _read(self, file: str) -> bytes:
        if file == "-":
            return sys.stdin.buffer.read()
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        return path.read_bytes()
