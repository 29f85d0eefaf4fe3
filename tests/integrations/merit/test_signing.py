"""Merit request signing against the vendor's published test vector (fact sheet §2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from integrations.merit import signing

API_ID = "670fe52f-558a-4be8-ade0-526e01a106d0"
API_KEY = "AoCmZGUfWMMhLJ+Eb6oRF4pAEw9XJP9b/RL5c2Gqk2w="
TIMESTAMP = "20240624205902"
BODY = (
    '{"CustName":"Kliendinimi","CustId":"3a274294-9c60-4a3d-93f0-1874253f073e",'
    '"OverDueDays":5,"DebtDate":"20220501"}'
)
SIGNATURE = "dt6dkfuj+OfX01YkvvAoN/fekAUGr6AvVlQhUUja9Qc="
ENCODED_SIGNATURE = "dt6dkfuj%2BOfX01YkvvAoN%2FfekAUGr6AvVlQhUUja9Qc%3D"


def test_it_reproduces_the_vendor_test_vector() -> None:
    assert signing.sign(API_ID, API_KEY, TIMESTAMP, BODY) == SIGNATURE


def test_it_signs_body_bytes_the_same_as_text() -> None:
    assert signing.sign(API_ID, API_KEY, TIMESTAMP, BODY.encode()) == SIGNATURE


def test_it_uses_the_key_as_typed_not_base64_decoded() -> None:
    # The vector only matches with the ASCII bytes of the key; a decoded key gives another value.
    import base64
    import hashlib
    import hmac

    decoded = hmac.new(
        base64.b64decode(API_KEY), (API_ID + TIMESTAMP + BODY).encode(), hashlib.sha256
    )
    assert base64.b64encode(decoded.digest()).decode() != signing.sign(
        API_ID, API_KEY, TIMESTAMP, BODY
    )


def test_it_signs_non_ascii_bodies_as_utf8() -> None:
    body = signing.dump_body({"Name": "Õunapuu Ärikeskus OÜ"})

    assert "Õunapuu" in body  # not \u-escaped
    assert signing.sign(API_ID, API_KEY, TIMESTAMP, body) == signing.sign(
        API_ID, API_KEY, TIMESTAMP, body.encode("utf-8")
    )
    assert signing.sign(API_ID, API_KEY, TIMESTAMP, body) != signing.sign(
        API_ID, API_KEY, TIMESTAMP, body.encode("latin-1")
    )


def test_it_never_escapes_slashes_in_the_body() -> None:
    assert signing.dump_body({"Memo": "a/b"}) == '{"Memo":"a/b"}'


def test_it_verifies_the_vector_and_rejects_any_change() -> None:
    assert signing.verify(API_ID, API_KEY, TIMESTAMP, BODY, SIGNATURE)
    assert not signing.verify(API_ID, API_KEY, TIMESTAMP, BODY + " ", SIGNATURE)
    assert not signing.verify(API_ID, API_KEY, "20240624205903", BODY, SIGNATURE)
    assert not signing.verify(API_ID.upper(), API_KEY, TIMESTAMP, BODY, SIGNATURE)
    assert not signing.verify(API_ID, API_KEY, TIMESTAMP, BODY, ENCODED_SIGNATURE)
    assert not signing.verify(API_ID, "nøkkel", TIMESTAMP, BODY, SIGNATURE)


def test_it_refuses_a_non_ascii_key_without_quoting_it() -> None:
    with pytest.raises(ValueError) as error:
        signing.sign(API_ID, "hemmelig-nøkkel", TIMESTAMP, BODY)
    assert "nøkkel" not in str(error.value)


def test_it_formats_timestamps_in_utc() -> None:
    oslo_summer = timezone(timedelta(hours=2))

    assert signing.format_timestamp(datetime(2024, 6, 24, 22, 59, 2, tzinfo=oslo_summer)) == (
        TIMESTAMP
    )
    assert signing.format_timestamp(datetime(2024, 6, 24, 20, 59, 2)) == TIMESTAMP
    now = signing.parse_timestamp(signing.format_timestamp())
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)


@pytest.mark.parametrize(
    "value", ["2024062420590", "202406242059020", "2024-06-24T205", "20241324205902"]
)
def test_it_rejects_malformed_timestamps(value: str) -> None:
    with pytest.raises(ValueError):
        signing.parse_timestamp(value)


def test_it_parses_a_timestamp_as_utc() -> None:
    assert signing.parse_timestamp(TIMESTAMP) == datetime(2024, 6, 24, 20, 59, 2, tzinfo=UTC)


def test_it_builds_the_query_parameters() -> None:
    moment = datetime(2024, 6, 24, 20, 59, 2, tzinfo=UTC)

    assert signing.signed_query(API_ID, API_KEY, BODY, moment) == {
        "ApiId": API_ID,
        "timestamp": TIMESTAMP,
        "signature": SIGNATURE,
    }


def test_it_builds_the_url_with_a_url_encoded_signature() -> None:
    moment = datetime(2024, 6, 24, 20, 59, 2, tzinfo=UTC)

    url = signing.signed_url(
        "https://aktiva.merit.ee/api/v1", "getcustomers", API_ID, API_KEY, BODY, moment
    )

    assert url == (
        "https://aktiva.merit.ee/api/v1/getcustomers"
        f"?ApiId={API_ID}&timestamp={TIMESTAMP}&signature={ENCODED_SIGNATURE}"
    )
    assert parse_qs(urlsplit(url).query)["signature"] == [SIGNATURE]
