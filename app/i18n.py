"""Language: the two interface languages, and how the language of a request is chosen."""
from __future__ import annotations

from flask import request, session
from flask_login import current_user

LANGUAGES = ("zh_Hans", "en")
LANGUAGE_NAMES = {"zh_Hans": "简体中文", "en": "English"}
# What browsers send (Accept-Language) mapped to our catalogues.
_ACCEPT = {"zh": "zh_Hans", "zh-cn": "zh_Hans", "zh-hans": "zh_Hans", "zh-sg": "zh_Hans",
           "en": "en"}


def N_(message: str) -> str:
    """Mark a message for the catalogues without translating it now (stored, translated later)."""
    return message


def locale_from_accept_language() -> str:
    best = request.accept_languages.best_match(list(_ACCEPT), default="en")
    return _ACCEPT.get(best.lower(), "en")


def select_locale() -> str:
    """The signed-in user's choice, else this browser session's choice, else Accept-Language."""
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in LANGUAGES:
        return chosen
    return locale_from_accept_language()
