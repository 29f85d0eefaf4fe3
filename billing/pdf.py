"""The invoice as a PDF, drawn with fpdf2 (pure Python, from PyPI: no system libraries).

Text is set in DejaVu Sans when Debian's `fonts-dejavu-core` is installed (the Dockerfile
installs it), which covers every character a Norwegian, Estonian or Polish name needs; without
it, fpdf2's built-in Helvetica is used and characters outside Latin-1 become "?"."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from fpdf import FPDF

from billing import invoices
from billing.models import Invoice
from uku.models import Company
from uku.registry_numbers import display_number

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def _money(amount: Decimal) -> str:
    return number_format(amount, 2, force_grouping=True)


def invoice_pdf(invoice: Invoice, company: Company) -> bytes:
    """The invoice's PDF bytes: header, client, lines, VAT per rate and totals."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    family = "Helvetica"
    if (FONT_DIR / "DejaVuSans.ttf").exists():
        pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
        pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        family = "DejaVu"

    def text(value: object) -> str:
        value = str(value)
        return value if family == "DejaVu" else value.encode("latin-1", "replace").decode("latin-1")

    pdf.set_title(text(f"{_('Invoice')} {invoice.number or _('Draft')}"))
    pdf.set_font(family, "B", 18)
    title = (
        _("Invoice %(number)s") % {"number": invoice.number}
        if invoice.number
        else _("Draft invoice")
    )
    pdf.cell(0, 10, text(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 10)
    pdf.cell(0, 6, text(company.name), new_x="LMARGIN", new_y="NEXT")
    if company.organisation_number:
        number = display_number(company.country, company.organisation_number)
        pdf.cell(0, 5, text(f"{_('Organisation number')} {number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    client = invoice.client
    for address in (
        client.name,
        client.address_line,
        f"{client.postal_code} {client.city}".strip(),
        (
            f"{_('Organisation number')} "
            f"{display_number(client.registry_country, client.organisation_number)}"
            if client.organisation_number
            else ""
        ),
    ):
        if address:
            pdf.cell(0, 5, text(address), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.cell(
        0,
        5,
        text(f"{_('Issue date')}: {invoice.issue_date:%d.%m.%Y}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.cell(
        0, 5, text(f"{_('Due date')}: {invoice.due_date:%d.%m.%Y}"), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.cell(0, 5, text(f"{_('Currency')}: {invoice.currency}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(5)
    widths = (80, 20, 28, 16, 16, 30)
    headers = (_("Description"), _("Qty"), _("Unit price"), _("Disc. %"), _("VAT %"), _("Amount"))
    pdf.set_font(family, "B", 9)
    for width, header in zip(widths, headers, strict=True):
        pdf.cell(width, 7, text(header), border="B", align="L" if width == 80 else "R")
    pdf.ln()
    pdf.set_font(family, "", 9)
    for line in invoice.lines.all():
        cells = (
            line.description[:60],
            number_format(line.quantity.normalize(), use_l10n=True),
            _money(line.unit_price),
            number_format(line.discount_percent.normalize()),
            number_format(line.vat_percentage.normalize()),
            _money(line.net_amount),
        )
        for width, value in zip(widths, cells, strict=True):
            pdf.cell(width, 6, text(value), align="L" if width == 80 else "R")
        pdf.ln()
    pdf.ln(4)
    totals = invoices.invoice_totals(invoice)
    label_width = sum(widths) - 30
    rows = [(_("Total excluding VAT"), totals.net)]
    rows += [
        (
            _("VAT %(rate)s %% of %(base)s")
            % {"rate": number_format(r.percentage.normalize()), "base": _money(r.net)},
            r.vat,
        )
        for r in totals.by_rate
    ]
    for label, amount in rows:
        pdf.cell(label_width, 6, text(label), align="R")
        pdf.cell(30, 6, text(_money(amount)), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "B", 10)
    pdf.cell(label_width, 7, text(_("Total including VAT")), align="R")
    pdf.cell(
        30,
        7,
        text(f"{_money(totals.gross)} {invoice.currency}"),
        align="R",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    if invoice.comment:
        pdf.ln(6)
        pdf.set_font(family, "", 9)
        pdf.multi_cell(0, 5, text(invoice.comment))
    return bytes(pdf.output())
