from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=N&page_size=M` (max 500).

    A page that is not a number, or is past the last page, is the caller's mistake in a query
    parameter: 400 with a field error on `page` (DRF answers 404, as if the list did not exist).
    """

    page_size_query_param = "page_size"
    max_page_size = 500
    invalid_page_message = _(  # type: ignore[assignment]  # lazy, as DRF's own
        "Invalid page: give a page number from 1 to the last page."
    )

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        try:
            return super().paginate_queryset(queryset, request, view)
        except exceptions.NotFound as exc:
            raise exceptions.ValidationError({self.page_query_param: [str(exc.detail)]}) from None
