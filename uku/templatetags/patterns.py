"""The product's shared UI patterns as template tags (one implementation each):

- `{% status kind value %}`: a status word in its colour, from the one vocabulary in
  `uku/status.py`;
- `{% page_href number %}`: the link of a pager page (`templates/includes/pager.html`);
- `{% sort_href key %}` / `{% sort_state key %}`: a sortable header's link and its `aria-sort`
  (`templates/includes/sort_th.html`).

Links keep the page's other query parameters (filters, search, tab) and drop the page number
when the sort or a filter changes, so a new order starts at page 1. A view whose links must
carry parameters that are not in `request.GET` (a fragment rendered after a POST) sets
`pager_query` in the context: the query string to keep, without `page`.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.http import QueryDict
from django.utils.html import format_html
from django.utils.safestring import SafeString

from uku.status import job_state, status_of

register = template.Library()


@register.simple_tag
def status(kind: str, value: Any) -> SafeString:
    """The word of `value` in the `kind` vocabulary, as a coloured badge (`status-<tone>`)."""
    shown = status_of(kind, str(value))
    return format_html(
        '<span class="status status-{}" data-status="{}">{}</span>', shown.tone, value, shown.word
    )


@register.filter
def job_status(job: Any) -> str:
    """A sync job's vocabulary value (`stalled` and `succeeded_with_failures` told apart)."""
    return job_state(job)


def _query(context: template.Context, *drop: str) -> QueryDict:
    kept = context.get("pager_query")
    if kept is not None:
        query = QueryDict(str(kept), mutable=True)
    else:
        request = context.get("request")
        query = request.GET.copy() if request is not None else QueryDict(mutable=True)
    for name in drop:
        query.pop(name, None)
    return query


@register.simple_tag(takes_context=True)
def page_href(context: template.Context, number: int) -> str:
    """`?<the page's query>&page=<number>`."""
    query = _query(context, "page")
    query["page"] = str(number)
    return f"?{query.urlencode()}"


def _current_sort(context: template.Context) -> str:
    return str(context.get("sort") or "")


@register.simple_tag(takes_context=True)
def sort_href(context: template.Context, key: str) -> str:
    """The header's link: ascending by `key`, or descending when it is already ascending."""
    query = _query(context, "page", "sort")
    query["sort"] = f"-{key}" if _current_sort(context) == key else key
    return f"?{query.urlencode()}"


@register.simple_tag(takes_context=True)
def sort_state(context: template.Context, key: str) -> str:
    """`ascending`, `descending` or "" (not sorted by `key`): the header's `aria-sort`."""
    current = _current_sort(context)
    if current == key:
        return "ascending"
    if current == f"-{key}":
        return "descending"
    return ""
