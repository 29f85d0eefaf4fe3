"""The product list sorts by its column headers, the one sortable-header pattern (issue 16)."""

from __future__ import annotations

import re

from django.urls import reverse


def test_products_sort_by_their_headers_not_a_dropdown(world, as_user, billing_on) -> None:
    from billing.models import BillingProduct

    with world.scope_a():
        for name, price in (("Årsoppgjør", 900), ("Bokføring", 100), ("Lønn", 500)):
            BillingProduct.objects.create(
                company=world.firm_a,
                vendor="tripletex",
                remote_id=name,
                name=name,
                unit_price=price,
            )
    page = (
        as_user(world.admin)
        .get(reverse("billing_settings"), {"tab": "products", "sort": "-price"})
        .content.decode()
    )
    assert 'name="sort" id=' not in page  # no <select name="sort">
    assert re.search(r'aria-sort="descending"><a class="sort-link" href="\?[^"]*sort=price', page)
    assert page.index("Årsoppgjør") < page.index("Lønn") < page.index("Bokføring")
