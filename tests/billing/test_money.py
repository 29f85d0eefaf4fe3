"""Invoice arithmetic: half-up to øre per line, VAT totalled per rate."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from billing import money
from billing.invoices import LineInput
from tests.billing.invoicing import setup_books


@pytest.mark.parametrize(
    ("quantity", "price", "discount", "net"),
    [
        ("1", "0.005", "0", "0.01"),  # half-up, not banker's rounding (which gives 0.00)
        ("1", "0.015", "0", "0.02"),
        ("1", "0.025", "0", "0.03"),  # banker's rounding would give 0.02
        ("3", "0.335", "0", "1.01"),  # 1.005
        ("-1", "0.005", "0", "-0.01"),  # a credit line rounds away from zero too
        ("2.5", "1250.50", "0", "3126.25"),
        ("1", "100.01", "50", "50.01"),  # 50.005
        ("7", "33.3333", "10", "210.00"),  # 209.99979: rounded once, at the end
    ],
)
def test_it_rounds_a_line_half_up_once(quantity, price, discount, net) -> None:
    assert money.line_net(D(quantity), D(price), D(discount)) == D(net)


def test_it_totals_vat_per_rate_not_per_line() -> None:
    # 3 lines of 0.10 at 15 %: each line's VAT is 0.015 -> 0.02 (0.06 summed per line), but
    # the rate's VAT is 15 % of 0.30 = 0.045 -> 0.05.
    lines = [money.line_amounts(D(1), D("0.10"), D(0), D(15)) for _ in range(3)]
    assert [line.vat for line in lines] == [D("0.02")] * 3
    totals = money.totals((line.net, D(15)) for line in lines)
    assert (totals.net, totals.vat, totals.gross) == (D("0.30"), D("0.05"), D("0.35"))


def test_it_keeps_each_rate_apart_on_many_lines() -> None:
    pairs = []
    for n in range(1, 101):  # 100 lines of n x 0.333 at 15 % and 12 % alternately
        net = money.line_net(D(n), D("0.333"), D(0))
        pairs.append((net, D(15) if n % 2 else D(12)))
    totals = money.totals(pairs)
    fifteen = sum((net for net, rate in pairs if rate == 15), D(0))
    twelve = sum((net for net, rate in pairs if rate == 12), D(0))
    by_rate = {r.percentage: r for r in totals.by_rate}
    assert by_rate[D("15.00")].vat == (fifteen * D("0.15")).quantize(D("0.01"), "ROUND_HALF_UP")
    assert by_rate[D("12.00")].vat == (twelve * D("0.12")).quantize(D("0.01"), "ROUND_HALF_UP")
    assert totals.net == fifteen + twelve
    assert totals.gross == totals.net + by_rate[D("15.00")].vat + by_rate[D("12.00")].vat
    # 0.333 x (1 + ... + 100) is 1681.65 unrounded; rounding each line first makes 1681.70.
    assert totals.net == D("1681.70")


def test_a_draft_stores_the_rounded_amounts_and_totals(world, tmp_path) -> None:
    books = setup_books(world, tmp_path)
    invoice = books.draft(
        LineInput(description="Bilag", quantity=D("1"), unit_price=D("0.005"), vat_type=books.vat25),
        LineInput(description="Mat", quantity=D("3"), unit_price=D("0.10"), vat_type=books.vat15),
        LineInput(description="Transport", quantity=D("1"), unit_price=D("99.99"), vat_type=books.vat12,
                  discount_percent=D("12.5")),
    )  # fmt: skip
    with world.scope_a():
        lines = list(invoice.lines.all())
    assert [line.net_amount for line in lines] == [D("0.01"), D("0.30"), D("87.49")]
    # 25 % of 0.01 = 0.0025 -> 0.00; 15 % of 0.30 -> 0.05; 12 % of 87.49 = 10.4988 -> 10.50
    assert (invoice.net_total, invoice.vat_total, invoice.gross_total) == (
        D("87.80"), D("10.55"), D("98.35"),
    )  # fmt: skip
