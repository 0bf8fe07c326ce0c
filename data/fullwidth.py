"""Full-width forms (U+FF01-FF5E) and the ASCII characters they are twins of, in one table:
feature folding reads them as ASCII (`data.text`), and so does the search for addresses
(`data.atoms`)."""
from __future__ import annotations

FULL_WIDTH = range(0xFF01, 0xFF5F)
HALF_WIDTH = {code: code - 0xFEE0 for code in FULL_WIDTH}  # a `str.translate` table: full-width code point -> its ASCII twin
