"""The English catalogue is the source text itself: fill every empty msgstr with its msgid.

Run by `make catalogues` after `pybabel update`, so that both catalogues stay complete.
"""
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PATH = Path(__file__).resolve().parent.parent / "app/translations/en/LC_MESSAGES/messages.po"

with PATH.open("rb") as handle:
    catalog = read_po(handle, locale="en")
filled = 0
for message in catalog:
    if not message.id:
        continue
    if message.pluralizable:
        if not all(message.string):
            message.string = (message.id[0], message.id[1])
            filled += 1
    elif not message.string:
        message.string = message.id
        filled += 1
    message.flags.discard("fuzzy")
with PATH.open("wb") as handle:
    write_po(handle, catalog, width=100, omit_header=False)
print(f"en catalogue: filled {filled} entries")
