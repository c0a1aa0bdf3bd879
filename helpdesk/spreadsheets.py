"""CSV that is safe to open in a spreadsheet (OWASP's rule against formula injection).

A text cell that starts with =, +, -, @, a tab or a carriage return would be run as a formula by Excel, LibreOffice
or Google Sheets: a category named `=HYPERLINK(...)` must stay text. Such a cell gets a leading apostrophe, which
spreadsheets show as plain text. Numbers are written as numbers.
"""

import csv

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeCsvWriter:
    def __init__(self, stream):
        self._writer = csv.writer(stream)

    def writerow(self, row) -> None:
        self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows) -> None:
        for row in rows:
            self.writerow(row)
