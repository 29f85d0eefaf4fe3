"""Text that is rendered once but read later, by people who read different languages.

A background job fails in the worker, whose active language is the site default; the message is
read days later on a Norwegian or an English page. `every_language` renders the message in each
language of `settings.LANGUAGES` at the moment it is made (the values it is filled with may not
exist later) and returns it as a plain `str` in the active language that also carries the other
renderings, so every caller that handles a `str` keeps working and the store that saves it can
keep all of them (`SyncJob.error_texts`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from django.conf import settings
from django.utils import translation


class Translated(str):
    """A `str` in the language active when it was made, with `texts`: language code -> the same
    message in that language. Slicing or concatenating gives a plain `str` (one language)."""

    texts: dict[str, str]


def every_language(render: Callable[[], object]) -> Translated:
    """`render()` (a message built with gettext) in the active language, carrying its rendering
    in every configured language. `render` must translate inside itself, not before."""
    texts: dict[str, str] = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            texts[code] = str(render())
    active = translation.get_language()
    # The active language is one of them, unless none is active or it is another variant.
    text = Translated(texts[active] if active in texts else str(render()))
    text.texts = texts
    return text


def texts_of(text: object) -> dict[str, str]:
    """The renderings a `Translated` carries; {} for any other text."""
    return dict(getattr(text, "texts", None) or {})


def in_active_language(text: str, texts: Mapping[str, str]) -> str:
    """`texts` in the active language (its base language for "nb-no"), else `text`."""
    language = (translation.get_language() or settings.LANGUAGE_CODE).lower()
    return texts.get(language) or texts.get(language.split("-")[0]) or text
