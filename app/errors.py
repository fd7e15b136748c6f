"""The base of every domain error. Services raise these; views show them in the user's language."""
from __future__ import annotations

from flask_babel import gettext


class DomainError(Exception):
    """A rule of the domain said no.

    `message` is an English msgid (marked with `N_`) with %(name)s placeholders and
    `params` fills them; `translated()` renders it in the current language.
    """

    def __init__(self, message: str, **params):
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params

    def translated(self) -> str:
        return gettext(self.message, **self.params)
