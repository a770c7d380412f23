"""processor/signature.py on its own: no database, no HTTP, exact headers and error codes."""

import pytest

from processor.exceptions import SignatureError
from processor.signature import MAX_HEADER_LENGTH, signature_compute, signature_header, signature_verify

BODY = b'{"amount":12000}'
NOW = 1767225600  # 2026-01-01T00:00:00Z
CURRENT = "whsec_unit_current"
PREVIOUS = "whsec_unit_previous"
# HMAC-SHA256(secret, b"1767225600." + BODY), computed outside Python with
# `printf '1767225600.{"amount":12000}' | openssl dgst -sha256 -hmac <secret>`.
CURRENT_HEX = "d426567bfbfb3d3c5a276b17cd1b4380ad9a38e061ec4e78833ab0fca38bbae7"
PREVIOUS_HEX = "47854a30a3f23c32c690541c6fec619aea94f11841ea6c0910db5dc93b04fd1f"
TOLERANCE = 300


def verify(header, *, secrets=(CURRENT,), now=NOW, body=BODY):
    signature_verify(header=header, body=body, secrets=list(secrets), tolerance=TOLERANCE, now=now)


def refusal_code(header, **kwargs) -> str:
    with pytest.raises(SignatureError) as refused:
        verify(header, **kwargs)
    return refused.value.code


def test_signature_compute_is_hmac_sha256_of_timestamp_dot_body():
    assert signature_compute(secret=CURRENT, timestamp=NOW, body=BODY) == CURRENT_HEX


def test_signature_header_has_the_documented_shape():
    assert signature_header(secret=CURRENT, body=BODY, timestamp=NOW) == f"t={NOW},v1={CURRENT_HEX}"


def test_a_valid_signature_is_accepted():
    assert verify(f"t={NOW},v1={CURRENT_HEX}") is None


def test_upper_case_hex_is_accepted():
    assert verify(f"t={NOW},v1={CURRENT_HEX.upper()}") is None


def test_a_signature_under_a_wrong_secret_is_a_mismatch():
    assert refusal_code(f"t={NOW},v1={CURRENT_HEX}", secrets=["whsec_someone_else"]) == "signature_mismatch"


def test_a_signature_over_other_bytes_is_a_mismatch():
    assert refusal_code(f"t={NOW},v1={CURRENT_HEX}", body=b'{"amount":99000}') == "signature_mismatch"


def test_a_signature_under_another_timestamp_is_a_mismatch():
    assert refusal_code(f"t={NOW + 1},v1={CURRENT_HEX}") == "signature_mismatch"


def test_any_configured_secret_may_match_during_rotation():
    assert verify(f"t={NOW},v1={PREVIOUS_HEX}", secrets=[CURRENT, PREVIOUS]) is None
    assert verify(f"t={NOW},v1={CURRENT_HEX}", secrets=[CURRENT, PREVIOUS]) is None


def test_a_retired_secret_no_longer_matches():
    assert refusal_code(f"t={NOW},v1={PREVIOUS_HEX}", secrets=[CURRENT]) == "signature_mismatch"


def test_any_of_several_v1_values_may_match_and_unknown_schemes_are_ignored():
    assert verify(f"t={NOW},v1={'0' * 64},v1={CURRENT_HEX},v0=ignored") is None


def test_no_secret_configured_matches_nothing():
    assert refusal_code(f"t={NOW},v1={CURRENT_HEX}", secrets=[]) == "signature_mismatch"


@pytest.mark.parametrize("offset", [-TOLERANCE, TOLERANCE, 0])
def test_a_timestamp_exactly_at_the_tolerance_edge_is_accepted(offset):
    timestamp = NOW + offset
    header = signature_header(secret=CURRENT, body=BODY, timestamp=timestamp)
    assert verify(header) is None


@pytest.mark.parametrize("offset", [-TOLERANCE - 1, TOLERANCE + 1, -TOLERANCE - 0.001])
def test_a_timestamp_past_the_tolerance_edge_is_expired(offset):
    header = signature_header(secret=CURRENT, body=BODY, timestamp=NOW)
    assert refusal_code(header, now=NOW - offset) == "signature_expired"


def test_expiry_is_checked_before_the_hmac():
    # A stale header is refused as expired even when its hex is wrong: no HMAC is computed for it.
    assert refusal_code(f"t={NOW - TOLERANCE - 1},v1={'0' * 64}") == "signature_expired"


@pytest.mark.parametrize("header", [None, ""])
def test_a_missing_header_is_signature_missing(header):
    assert refusal_code(header) == "signature_missing"


@pytest.mark.parametrize("header", [
    f"v1={CURRENT_HEX}",                         # no timestamp
    f"t={NOW}",                                  # no v1
    f"t={NOW},v0={CURRENT_HEX}",                 # only an unknown scheme
    f"t={NOW},t={NOW},v1={CURRENT_HEX}",         # two timestamps
    f"t=-{NOW},v1={CURRENT_HEX}",                # a sign
    f"t={NOW}.5,v1={CURRENT_HEX}",               # a fraction
    f"t=1234567890123,v1={CURRENT_HEX}",         # 13 digits
    f"t=,v1={CURRENT_HEX}",                      # an empty value
    f"t={NOW},v1=",                              # an empty v1
    f"t={NOW};v1={CURRENT_HEX}",                 # the wrong separator
    "garbage",
    ",",
])
def test_a_malformed_header_is_signature_malformed(header):
    assert refusal_code(header) == "signature_malformed"


def test_spaces_around_parts_are_tolerated():
    assert verify(f"t={NOW}, v1={CURRENT_HEX}") is None


def test_non_ascii_v1_is_a_mismatch_not_a_crash():
    assert refusal_code(f"t={NOW},v1=\u00e9{CURRENT_HEX[1:]}") == "signature_mismatch"


def test_a_header_over_the_length_limit_is_malformed_before_parsing():
    header = f"t={NOW},v1={CURRENT_HEX}"
    header += ",v0=" + "x" * (MAX_HEADER_LENGTH - len(header) - 4)
    assert len(header) == MAX_HEADER_LENGTH
    assert verify(header) is None
    assert refusal_code(header + "x") == "signature_malformed"


def test_each_refusal_says_why_in_words():
    details = {}
    for header, kwargs in [(None, {}), ("garbage", {}), (f"t={NOW - 301},v1={CURRENT_HEX}", {}),
                           (f"t={NOW},v1={CURRENT_HEX}", {"secrets": ["whsec_other"]})]:
        with pytest.raises(SignatureError) as refused:
            verify(header, **kwargs)
        details[refused.value.code] = str(refused.value)
    assert details == {
        "signature_missing": "The X-Mesa-Signature header is missing.",
        "signature_malformed": "The signature header is malformed.",
        "signature_expired": "The signature timestamp is more than 300 seconds from now.",
        "signature_mismatch": "No signature matches a configured secret.",
    }
