"""Fill Chinese translations into the zh_Hans catalogue from a Python file that defines
`ZH = {msgid: translation}` (plural msgids are tuples, their translations one-tuples).

    .venv/bin/python scripts/fill_zh.py translations.py

Only empty or fuzzy entries are filled; the file is then compiled by `pybabel compile`."""
from __future__ import annotations

import runpy
import sys

from babel.messages.pofile import read_po, write_po

PO = "app/translations/zh_Hans/LC_MESSAGES/messages.po"


def main(source: str) -> None:
    translations = runpy.run_path(source)["ZH"]
    with open(PO, "rb") as handle:
        catalogue = read_po(handle, locale="zh_Hans")
    filled = 0
    for message in catalogue:
        if not message.id or message.id not in translations:
            continue
        empty = not message.string or (not isinstance(message.string, str)
                                        and not all(message.string))
        if empty or message.fuzzy:
            message.string = translations[message.id]
            message.flags.discard("fuzzy")
            filled += 1
    with open(PO, "wb") as handle:
        write_po(handle, catalogue, width=100)
    print(f"zh_Hans catalogue: filled {filled} entries")


if __name__ == "__main__":
    main(sys.argv[1])
