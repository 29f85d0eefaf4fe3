"""Request parsers for the API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser that answers a document nested too deeply with a 400 `parse_error`.

    Python's `json` recurses once per nesting level, so `[[[[...]]]]` a few thousand levels deep
    raises RecursionError. DRF turns only ValueError into a ParseError, so without this the
    request would be an unhandled 500. Returns the parsed data; raises ParseError.
    """

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("JSON parse error: the document is nested too deeply.")) from None
