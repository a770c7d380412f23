"""manage.py sign_event: a header the API accepts, or a ready curl command."""

import io
import json
import shlex

import pytest
from django.core.management import CommandError, call_command

from processor.signature import signature_compute
from tests.conftest import OLD_SECRET, SECRET

pytestmark = pytest.mark.django_db


@pytest.fixture
def event_file(tmp_path, event_payload):
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event_payload(event_id="evt_signed_1"), indent=2) + "\n")
    return path


def run(*args, stdin: bytes | None = None, monkeypatch=None) -> str:
    out = io.StringIO()
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    call_command("sign_event", *args, stdout=out)
    return out.getvalue().strip()


def test_prints_a_header_signed_with_the_first_secret_over_the_exact_file_bytes(event_file):
    header = run(str(event_file), "--timestamp", "1767225600")
    expected = signature_compute(secret=SECRET, timestamp=1767225600, body=event_file.read_bytes())
    assert header == f"t=1767225600,v1={expected}"


def test_the_printed_header_is_accepted_by_the_api(event_file, post):
    header = run(str(event_file))
    response = post(raw=event_file.read_bytes(), signature=header)
    assert response.status_code == 201
    assert response.json()["event_id"] == "evt_signed_1"


def test_secret_option_overrides_the_configured_one(event_file):
    header = run(str(event_file), "--secret", OLD_SECRET, "--timestamp", "5")
    assert header == f"t=5,v1={signature_compute(secret=OLD_SECRET, timestamp=5, body=event_file.read_bytes())}"


def test_reads_standard_input(event_file, monkeypatch):
    header = run("-", "--timestamp", "7", stdin=event_file.read_bytes(), monkeypatch=monkeypatch)
    assert header == f"t=7,v1={signature_compute(secret=SECRET, timestamp=7, body=event_file.read_bytes())}"


def test_curl_option_prints_a_command_that_posts_the_file(event_file):
    command = shlex.split(run(str(event_file), "--timestamp", "9", "--curl", "http://127.0.0.1:8000/v1/processor/events"))
    signature = signature_compute(secret=SECRET, timestamp=9, body=event_file.read_bytes())
    assert command == [
        "curl", "-sS", "-i", "-X", "POST", "http://127.0.0.1:8000/v1/processor/events",
        "-H", "Content-Type: application/json",
        "-H", f"X-Mesa-Signature: t=9,v1={signature}",
        "--data-binary", f"@{event_file}",
    ]


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        run(str(tmp_path / "nope.json"))


def test_invalid_json_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(CommandError, match="is not valid JSON"):
        run(str(path))


def test_no_secret_is_a_clear_error(event_file, settings):
    settings.PROCESSOR_WEBHOOK_SECRETS = []
    with pytest.raises(CommandError, match="No secret"):
        run(str(event_file))
