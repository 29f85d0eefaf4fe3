"""Invoice arithmetic: one place, in `Decimal`, rounded half-up to øre.

The rules (the same on screen, in the PDF, in the API and in what is exported):
- a line's net amount is `quantity x unit price x (1 - discount / 100)`, rounded half-up to
  2 decimals once, at the end (never the intermediate products);
- VAT is totalled per rate: the nets of every line with the same rate are summed, and the VAT
  of that sum is rounded once. A line's own VAT (shown on the line, exported per line) is its
  net's VAT rounded the same way; the per-line figures may differ from the per-rate total by
  an øre on invoices with many lines, and the per-rate total is the invoice's VAT;
- the invoice's totals: net (sum of line nets), VAT (sum of the per-rate VAT) and gross.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def round_money(amount: Decimal) -> Decimal:
    """Half-up to 2 decimals: 0.005 becomes 0.01, -0.005 becomes -0.01."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def line_net(quantity: Decimal, unit_price: Decimal, discount_percent: Decimal) -> Decimal:
    """The line's amount excluding VAT, rounded once."""
    gross = Decimal(quantity) * Decimal(unit_price)
    return round_money(gross * (HUNDRED - Decimal(discount_percent)) / HUNDRED)


def vat_of(net: Decimal, percentage: Decimal) -> Decimal:
    return round_money(Decimal(net) * Decimal(percentage) / HUNDRED)


@dataclass(frozen=True)
class LineAmounts:
    net: Decimal
    vat: Decimal


def line_amounts(
    quantity: Decimal, unit_price: Decimal, discount_percent: Decimal, vat_percentage: Decimal
) -> LineAmounts:
    net = line_net(quantity, unit_price, discount_percent)
    return LineAmounts(net=net, vat=vat_of(net, vat_percentage))


@dataclass(frozen=True)
class VatRateTotal:
    percentage: Decimal
    net: Decimal
    vat: Decimal


@dataclass(frozen=True)
class Totals:
    net: Decimal
    vat: Decimal
    gross: Decimal
    by_rate: tuple[VatRateTotal, ...]


def totals(lines: Iterable[tuple[Decimal, Decimal]]) -> Totals:
    """Totals of `(net amount, VAT percentage)` pairs (nets already rounded per line)."""
    nets: dict[Decimal, Decimal] = {}
    for net, percentage in lines:
        key = Decimal(percentage).quantize(CENT)
        nets[key] = nets.get(key, Decimal(0)) + Decimal(net)
    by_rate = tuple(
        VatRateTotal(percentage=rate, net=round_money(net), vat=vat_of(net, rate))
        for rate, net in sorted(nets.items(), reverse=True)
    )
    net_total = round_money(sum((r.net for r in by_rate), Decimal(0)))
    vat_total = round_money(sum((r.vat for r in by_rate), Decimal(0)))
    return Totals(net=net_total, vat=vat_total, gross=net_total + vat_total, by_rate=by_rate)
