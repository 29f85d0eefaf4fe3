"""`MeritClient` on the shared seam: signing (the vendor's test vector, a fresh timestamp per
attempt), Merit's answers (JSON strings, 200 with a stack trace), 429, date windows, and no secret
in any error or call record. Over real HTTP against the Merit emulator unless the point is the
exact bytes (the test vector, mocked with `responses`)."""

from __future__ import annotations

import json
import time
import tracemalloc
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from integrations import http
from integrations.base import AuthError, CallRecord, ConfigError, TransientError
from integrations.merit import signing
from integrations.merit.client import MeritClient, add_months, split_window
from integrations.merit.errors import MeritRequestError

VECTOR_API_ID = "670fe52f-558a-4be8-ade0-526e01a106d0"
VECTOR_API_KEY = "AoCmZGUfWMMhLJ+Eb6oRF4pAEw9XJP9b/RL5c2Gqk2w="
VECTOR_TIMESTAMP = "20240624205902"
VECTOR_BODY = {
    "CustName": "Kliendinimi",
    "CustId": "3a274294-9c60-4a3d-93f0-1874253f073e",
    "OverDueDays": 5,
    "DebtDate": "20220501",
}
VECTOR_SIGNATURE = "dt6dkfuj%2BOfX01YkvvAoN%2FfekAUGr6AvVlQhUUja9Qc%3D"


@pytest.fixture
def records() -> list[CallRecord]:
    return []


@pytest.fixture
def make_client(merit, records):
    """`make_client(country="EE", **credentials)`: a client with the demo firm's credentials."""

    def make(country: str = "EE", **overrides):
        creds = merit.store.demo_credentials(country)
        options = {
            "api_id": creds["api_id"],
            "api_key": creds["api_key"],
            "country": country.lower(),
            "rate_key": f"merit:test:{creds['api_id']}",
            "on_call": records.append,
            "backoff_base": 0.01,
            **overrides,
        }
        return MeritClient(**options)

    return make


@responses.activate
def test_it_signs_the_vendors_test_vector_exactly(monkeypatch) -> None:
    monkeypatch.setattr(signing, "format_timestamp", lambda moment=None: VECTOR_TIMESTAMP)
    responses.post("https://aktiva.merit.ee/api/v1/getcustdebtrep", json=[])
    client = MeritClient(
        api_id=f" {VECTOR_API_ID} ", api_key=f"{VECTOR_API_KEY}\n", country="ee", rate_key="t"
    )
    client.post("getcustdebtrep", VECTOR_BODY)
    sent = responses.calls[0].request
    query = urlsplit(str(sent.url)).query
    assert f"signature={VECTOR_SIGNATURE}" in query.split("&")
    assert parse_qs(query)["ApiId"] == [VECTOR_API_ID]  # stripped before signing and sending
    assert parse_qs(query)["timestamp"] == [VECTOR_TIMESTAMP]
    assert sent.body == signing.dump_body(VECTOR_BODY).encode()  # the bytes signed


def test_it_refuses_a_plain_http_address_other_than_this_machine() -> None:
    with pytest.raises(ConfigError):
        MeritClient(
            api_id=VECTOR_API_ID,
            api_key=VECTOR_API_KEY,
            country="ee",
            rate_key="t",
            base_url="http://aktiva.merit.ee/api/v1/",
        )


def test_it_reads_tax_rates_from_the_emulator(merit, make_client, records) -> None:
    taxes = make_client().post_list("gettaxes")
    assert {t["Code"] for t in taxes} >= {"24%", "22%"}
    assert [(r.method, r.path, r.status) for r in records] == [("POST", "/gettaxes", 200)]


def test_a_429_is_waited_out_and_the_retry_is_signed_afresh(
    merit, make_client, monkeypatch
) -> None:
    merit.store.inject_fault("rate_limit", "gettaxes", times=1, retry_after=1)
    sent: list[dict[str, list[str]]] = []
    original = requests.Session.request

    def spy(self, method, url, params=None, **kwargs):
        sent.append({k: [v] for k, v in (params or {}).items()})
        return original(self, method, url, params=params, **kwargs)

    monkeypatch.setattr(requests.Session, "request", spy)
    assert make_client().post_list("gettaxes")
    assert len(sent) == 2
    first, second = sent
    assert first["timestamp"] != second["timestamp"]  # a second apart at least: Retry-After 1
    assert first["signature"] != second["signature"]
    counts = merit.store.request_log()["requests"]
    assert [r["status"] for r in counts] == [429, 200]


def test_a_stale_signature_is_re_signed_once(merit, make_client) -> None:
    merit.store.inject_fault("wrong_signature", "gettaxes", times=1)
    assert make_client().post_list("gettaxes")
    assert [r["status"] for r in merit.store.request_log()["requests"]] == [401, 200]


def test_it_unwraps_a_json_string_holding_json(merit, make_client) -> None:
    merit.store.inject_fault("json_string", "gettaxes", times=1)
    taxes = make_client().post_list("gettaxes")
    assert isinstance(taxes, list) and taxes[0]["Id"]


def test_a_200_with_a_stack_trace_is_retried_then_fails_as_transient(merit, make_client) -> None:
    merit.store.inject_fault("stacktrace_200", "gettaxes", times=1)
    assert make_client().post_list("gettaxes")  # retried: a read
    merit.store.inject_fault("stacktrace_200", "gettaxes", times=5)
    with pytest.raises(TransientError) as raised:
        make_client().post_list("gettaxes")
    assert "could not read" in raised.value.message
    assert "Exception" not in repr(raised.value.details)


def test_a_validation_refusal_keeps_merits_message(merit, make_client) -> None:
    with pytest.raises(MeritRequestError) as raised:
        make_client().post_list("getinvoices", {"PeriodStart": "20240101", "PeriodEnd": "20241231"})
    assert "Period length max 3 months!" in raised.value.message
    assert raised.value.status == 400


@pytest.mark.parametrize(
    ("start", "end", "limits", "expected"),
    [
        (date(2024, 1, 1), date(2024, 3, 31), {"months": 3}, [("0101", "0331")]),
        (
            date(2024, 1, 1),
            date(2024, 12, 31),
            {"months": 3},
            [("0101", "0331"), ("0401", "0630"), ("0701", "0930"), ("1001", "1231")],
        ),
        (date(2024, 1, 1), date(2024, 2, 15), {"days": 31}, [("0101", "0201"), ("0202", "0215")]),
        (date(2024, 2, 1), date(2024, 1, 1), {"months": 3}, []),
    ],
)
def test_split_window_covers_the_period_without_gaps(start, end, limits, expected) -> None:
    windows = split_window(start, end, **limits)
    assert [(a.strftime("%m%d"), b.strftime("%m%d")) for a, b in windows] == expected


def test_long_periods_are_split_to_what_merit_accepts(merit, make_client, records) -> None:
    """A year of sales invoices (4 calls of 3 months) and two months of the full GL list (31-day
    calls): every window is accepted, and together they hold every invoice of the year."""
    client = make_client()
    today = merit.store.today()
    start = add_months(today, -12)
    windows = split_window(start, today, months=3)
    year = [row for page in client.iter_windows("getinvoices", start, today) for row in page]
    assert len(windows) >= 4 and len(records) == len(windows)
    assert all(r.status == 200 for r in records)
    in_range = [
        r for r in year if start <= datetime.fromisoformat(r["DocumentDate"]).date() <= today
    ]
    assert year and len(in_range) == len(year)
    assert len({r["SIHId"] for r in year}) == len(year)  # no window overlaps another
    records.clear()
    gl_start = today - timedelta(days=70)  # 71 days: three windows of at most 32 days
    list(client.iter_windows("GetGLBatchesFull", gl_start, today))
    assert [r.status for r in records] == [200, 200, 200]


def test_no_credential_or_signature_in_errors_or_records(merit, make_client, records) -> None:
    creds = merit.store.demo_credentials("EE")
    client = make_client(api_key="wrong-key-canary-0f1e2d3c4b5a")
    with pytest.raises(AuthError) as raised:
        client.post_list("gettaxes")
    seen = [str(raised.value), repr(raised.value.details), repr(client), *map(repr, records)]
    seen += [repr(raised.value.__context__), repr(raised.value.__cause__)]
    for text in seen:
        assert "wrong-key-canary" not in text and creds["api_id"] not in text
        assert "signature=" not in text and "timestamp=" not in text and "127.0.0.1" not in text


# --- Streamed lists: Merit has no paging, so `getcustomers` answers every customer at once -------


@pytest.fixture
def many_customers(merit, monkeypatch):
    """The Estonian demo firm with 1,200 customers (three pages of 500), and a spool that moves
    to disk past 16 KiB, so the answer is read from a file as a large one is."""
    merit.store.reset("demo", customers=1200)
    monkeypatch.setattr(http, "STREAM_SPOOL_BYTES", 16 * 1024)
    return {c["CustomerId"] for c in merit.store.firm("EE").customers.values()}


def test_a_list_is_streamed_in_batches(merit, make_client, records, many_customers) -> None:
    batches = list(make_client().iter_list("getcustomers", size=500))
    assert [len(b) for b in batches] == [500, 500, 200]
    assert [row["CustomerId"] for b in batches for row in b] == list(
        merit.store.firm("EE").customers
    )
    assert [(r.path, r.status) for r in records] == [("/getcustomers", 200)]


@pytest.mark.parametrize(("fault", "kind"), [("cut_json", "malformed"), ("cut_connection", None)])
def test_an_answer_cut_in_the_middle_is_read_again_and_loses_nothing(
    merit, make_client, records, many_customers, fault, kind
) -> None:
    """An answer that stops half-way (its JSON cut, or the connection lost with half the body
    read) is met before the first batch is handed out: the read is sent again and every
    customer arrives once; when every attempt is cut, the error comes before any row."""
    merit.store.inject_fault(fault, "getcustomers", times=1)
    rows = [row for b in make_client().iter_list("getcustomers", size=500) for row in b]
    assert [r["CustomerId"] for r in rows] == list(merit.store.firm("EE").customers)
    assert len({r["CustomerId"] for r in rows}) == len(many_customers) == 1200
    assert [r.status for r in records][-1] == 200 and len(records) == 2

    merit.store.inject_fault(fault, "getcustomers", times=5)
    handed_out: list[list[dict]] = []
    with pytest.raises(TransientError) as raised:
        for batch in make_client().iter_list("getcustomers", size=500):
            handed_out.append(batch)
    assert handed_out == []
    assert raised.value.details["path"] == "/getcustomers"
    if kind:
        assert raised.value.details["kind"] == kind
        assert "could not read" in raised.value.message
    else:  # the connection failed half-way through the body: a transient failure, retried
        assert raised.value.details["kind"] in ("connection", "timeout")


def test_a_timeout_while_the_answer_streams_is_the_same_timeout(
    merit, make_client, many_customers
) -> None:
    merit.store.inject_fault("delay", "getcustomers", times=5, delay_seconds=1.0)
    with pytest.raises(TransientError) as raised:
        list(make_client(timeout=(2.0, 0.2), max_attempts=2).iter_list("getcustomers", size=500))
    assert raised.value.details["kind"] == "timeout"
    assert "did not answer in time" in raised.value.message
    # The emulator still answers both, late: let it finish before the next test measures.
    deadline = time.monotonic() + 10
    while len(merit.store.request_log()["requests"]) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_streamed_list_reads_merits_other_answers_as_before(merit, make_client) -> None:
    """An empty firm's answer, and the same as a JSON string holding JSON (Merit before
    "February 8"), are no rows, without an error."""
    merit.store.reset("empty")
    for fault in (None, "json_string"):
        if fault:
            merit.store.inject_fault(fault, "getcustomers", times=1)
        assert list(make_client().iter_list("getcustomers", size=500)) == []


@responses.activate
@pytest.mark.parametrize(
    ("body", "ok"),
    [
        (b"null", []),
        (b'"[{\\"CustomerId\\": \\"a\\"}]"', [{"CustomerId": "a"}]),  # a JSON string holding JSON
        (b'\xef\xbb\xbf[{"CustomerId": "a"}]', "malformed"),  # a byte-order mark, as before
        (b'[{"CustomerId": "a", "PaymentDeadLine": 7, "OverdueCharge": 0.5}]', None),
        (b'{"CustomerId": "a"}', "malformed"),  # an object, not a list
        (b'[{"CustomerId": "a"}, 7]', "malformed"),  # a row that is not an object
        (b'[{"CustomerId": "a"}] trailing', "malformed"),
        (b'[{"CustomerId": "a"}, {"Name": "Ka', "malformed"),
    ],
)
def test_streamed_answers_decode_as_whole_ones(body, ok) -> None:
    """What a streamed answer gives is what the same answer read whole gave: the same rows (int
    and float numbers, not Decimal), or the same malformed-answer error."""
    url = "https://aktiva.merit.ee/api/v1/getcustomers"
    responses.post(url, body=body, content_type="application/json")
    client = MeritClient(
        api_id=VECTOR_API_ID, api_key=VECTOR_API_KEY, country="ee", rate_key="t",
        backoff_base=0.001, max_attempts=2,
    )  # fmt: skip
    if ok == "malformed":
        with pytest.raises(TransientError) as raised:
            list(client.iter_list("getcustomers", size=2))
        assert raised.value.details["kind"] == "malformed"
        with pytest.raises(TransientError):
            client.post_list("getcustomers")  # the same answer read whole: the same error
        return
    streamed = [row for b in client.iter_list("getcustomers", size=2) for row in b]
    whole = client.post_list("getcustomers")
    assert streamed == whole == (ok if ok is not None else whole)
    for row in streamed:
        for key in ("PaymentDeadLine", "OverdueCharge"):
            if key in row:
                assert type(row[key]) is type(json.loads(body)[0][key])


@responses.activate
def test_a_large_list_is_never_held_whole_in_memory(monkeypatch) -> None:
    """10,000 customers (about 3 MB of JSON): reading them in batches of 500 allocates less
    than the answer's own size at its peak (read whole, it was the bytes, the text and every
    row's objects at once: several times the size)."""
    row = {"CustomerId": "", "Name": "Kase Ehitus OÜ", "RegNo": "12345678",
           "Email": "info@kase.ee", "Address": "Pikk 1", "City": "Tallinn",
           "PostalCode": "10123", "CountryCode": "EE", "PaymentDeadLine": 14,
           "Comments": [], "Dimensions": []}  # fmt: skip
    body = json.dumps(
        [{**row, "CustomerId": f"00000000-0000-0000-0000-{n:012d}"} for n in range(10_000)]
    ).encode()
    responses.post("https://aktiva.merit.ee/api/v1/getcustomers", body=body)
    client = MeritClient(api_id=VECTOR_API_ID, api_key=VECTOR_API_KEY, country="ee", rate_key="t")
    seen = 0
    tracemalloc.start()
    try:
        for batch in client.iter_list("getcustomers", size=500):
            seen += len(batch)
            del batch
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == 10_000
    assert peak < len(body), f"peak {peak / 1e6:.1f} MB for an answer of {len(body) / 1e6:.1f} MB"


def test_customer_search_and_items_read_the_streamed_list(merit, make_client, many_customers):
    """The integration column's search keeps only the asked page of a streamed answer (here a
    page across the stream's batch boundary at 500), with the right total; items stream too."""
    from integrations.merit.adapter import MeritAdapter

    creds = merit.store.demo_credentials("EE")
    adapter = MeritAdapter(
        credentials={"api_id": creds["api_id"], "api_key": creds["api_key"]}, environment="ee"
    )
    adapter._client = make_client()
    everyone = list(merit.store.firm("EE").customers)
    found = adapter.search_customers(query="", page=17, page_size=30)  # rows 480-509
    assert [c.id for c in found.customers] == everyone[480:510]
    assert (found.total, found.has_next) == (1200, True)
    last = adapter.search_customers(query="", page=40, page_size=30)
    assert [c.id for c in last.customers] == everyone[1170:] and not last.has_next
    assert adapter.search_customers(query="", page=41, page_size=30).customers == []
    items = [p for page in adapter.iter_products() for p in page]
    assert len(items) == len(merit.store.firm("EE").items) and items[0].vat_type_id
