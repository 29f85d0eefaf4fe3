"""Merit Aktiva API v1 request signing, as pure functions.

Used by both sides: uku's Merit client signs with :func:`signed_query` (or
:func:`signed_url`), and the sandbox verifies with :func:`verify`. The rules come
from Merit's authentication page (see the vendor fact sheet, §2):

* three query parameters: ``ApiId``, ``timestamp`` (``yyyyMMddHHmmss``, UTC) and
  ``signature``;
* ``signature = base64(hmac_sha256(ascii(api_key), utf8(api_id + timestamp + body)))``,
  where the key is the API key string *as typed* (not Base64-decoded) and ``body``
  is the exact request body sent;
* the signature is URL-encoded in the query (``+`` → ``%2B``, ``/`` → ``%2F``,
  ``=`` → ``%3D``).

Serialise the JSON body once with :func:`dump_body`, sign that string and send the
same bytes: re-serialising after signing can change the bytes and break the
signature. Sign again (new timestamp) on every retry, as Merit asks.

Nothing here logs, and no error message quotes a key, an id or a signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

#: ``yyyyMMddHHmmss`` in strftime notation; Merit reads it as UTC.
TIMESTAMP_FORMAT = "%Y%m%d%H%M%S"
#: The query parameter names uku sends. Merit's FAQ, the Finnish docs and every public
#: client send ``ApiId``; the EE authentication page writes ``apiId`` (both work).
API_ID_PARAM = "ApiId"
TIMESTAMP_PARAM = "timestamp"
SIGNATURE_PARAM = "signature"


def format_timestamp(moment: datetime | None = None) -> str:
    """``moment`` (default: now) as Merit's ``yyyyMMddHHmmss`` in UTC.

    A naive ``moment`` is taken to be UTC already; an aware one is converted.
    (Some public examples use local time; Merit's rule is UTC.)
    """
    if moment is None:
        moment = datetime.now(UTC)
    elif moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime(TIMESTAMP_FORMAT)


def parse_timestamp(value: str) -> datetime:
    """A Merit ``yyyyMMddHHmmss`` timestamp as an aware UTC datetime.

    Raises ``ValueError`` unless ``value`` is exactly 14 digits forming a real date-time.
    """
    if len(value) != 14 or not value.isdigit():
        raise ValueError("timestamp must be 14 digits (yyyyMMddHHmmss)")
    return datetime.strptime(value, TIMESTAMP_FORMAT).replace(tzinfo=UTC)


def dump_body(payload: Any) -> str:
    """Serialise a request payload once, as the string to sign and to send.

    Plain UTF-8 JSON (``ensure_ascii=False``): Python never escapes ``/`` as ``\\/``,
    which the Finnish docs hint may upset Merit's signature check.
    """
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def _body_bytes(body: str | bytes) -> bytes:
    return body if isinstance(body, bytes) else body.encode("utf-8")


def sign(api_id: str, api_key: str, timestamp: str, body: str | bytes) -> str:
    """The Base64 HMAC-SHA256 signature of ``api_id + timestamp + body`` (not URL-encoded).

    ``body`` is the exact request body (text is encoded as UTF-8; bytes are used as
    they are). Raises ``ValueError`` if the key is not ASCII, without quoting it.
    """
    try:
        key = api_key.encode("ascii")
    except UnicodeEncodeError:
        raise ValueError("the API key must be ASCII text") from None
    data = (api_id + timestamp).encode("utf-8") + _body_bytes(body)
    return base64.b64encode(hmac.new(key, data, hashlib.sha256).digest()).decode("ascii")


def verify(api_id: str, api_key: str, timestamp: str, body: str | bytes, signature: str) -> bool:
    """Whether ``signature`` (already URL-decoded) is right for this request.

    Compared in constant time so a verifier does not leak how much of it matched.
    """
    try:
        expected = sign(api_id, api_key, timestamp, body)
    except ValueError:
        return False
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace"))


def signed_query(
    api_id: str, api_key: str, body: str | bytes, moment: datetime | None = None
) -> dict[str, str]:
    """The three authentication query parameters for one request (values not URL-encoded).

    Pass the result as ``params=`` to ``requests``, which URL-encodes ``+``, ``/`` and
    ``=`` in the signature. Call it again for every attempt: a retry needs a fresh
    timestamp.
    """
    timestamp = format_timestamp(moment)
    return {
        API_ID_PARAM: api_id,
        TIMESTAMP_PARAM: timestamp,
        SIGNATURE_PARAM: sign(api_id, api_key, timestamp, body),
    }


def signed_url(
    base_url: str,
    endpoint: str,
    api_id: str,
    api_key: str,
    body: str | bytes,
    moment: datetime | None = None,
) -> str:
    """``base_url + endpoint + "?ApiId=…&timestamp=…&signature=…"`` with every value URL-encoded.

    ``base_url`` ends with ``/api/v1/`` (a missing trailing slash is added). The result
    contains the API ID: never log it whole.
    """
    query = signed_query(api_id, api_key, body, moment)
    encoded = "&".join(f"{name}={quote(value, safe='')}" for name, value in query.items())
    return f"{base_url.rstrip('/')}/{endpoint.lstrip('/')}?{encoded}"
