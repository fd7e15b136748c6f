"""Both catalogues are complete and current: every user-facing string in the code and the
templates has a Chinese and an English translation, with the same placeholders."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _source_msgids() -> set[str]:
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None,
                "_l": None, "N_": None}
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def _catalogue(locale: str):
    with (ROOT / "app/translations" / locale / "LC_MESSAGES/messages.po").open("rb") as handle:
        return read_po(handle, locale=locale)


@pytest.fixture(scope="module")
def source_msgids():
    return _source_msgids()


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
def test_every_source_string_is_translated(source_msgids, locale):
    catalogue = _catalogue(locale)
    translated = {}
    for message in catalogue:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if all(strings) and "fuzzy" not in message.flags:
            translated[key] = strings
    missing = sorted(m for m in source_msgids if m not in translated)
    assert not missing, f"{len(missing)} strings lack a {locale} translation: {missing[:20]}"


def test_chinese_translations_keep_the_placeholders():
    for message in _catalogue("zh_Hans"):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1])) | set(PLACEHOLDER.findall(ids[0]))
        for string in strings:
            # a translation may leave out a value the other language needs (a level's
            # English name), but never asks for one that is not given
            assert set(PLACEHOLDER.findall(string)) <= wanted, (message.id, string)
            if wanted:
                assert PLACEHOLDER.findall(string), (message.id, string)


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
def test_every_translation_formats(locale):
    """Templates format every message with %, placeholders or none (Jinja's new-style
    gettext): a bare "%" in a translation ("（%）") would break the page in that language."""
    for message in _catalogue(locale):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        values = {name: 1 for text in ids for name in PLACEHOLDER.findall(text)}
        values["num"] = 1
        for string in strings:
            if string:
                string % values    # raises on a stray "%"


def test_every_template_with_text_is_read_by_the_extractor():
    """pybabel skips a template it cannot parse (an unknown tag such as {% cache %} without
    its extension in babel.cfg) and its strings silently leave the catalogues."""
    from babel.messages.extract import extract_from_file

    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    options = next(opts for pattern, opts in options_map.items() if pattern.endswith(".html"))
    unread = []
    for template in sorted((ROOT / "app").rglob("*.html")):
        if '_("' not in template.read_text() and "_('" not in template.read_text():
            continue
        found = list(extract_from_file("jinja2", str(template), options=options,
                                       keywords={"_": None, "ngettext": (1, 2)}))
        if not found:
            unread.append(str(template.relative_to(ROOT)))
    assert not unread, f"templates whose strings the extractor does not see: {unread}"
