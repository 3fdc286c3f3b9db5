"""Paths and values as SQL text, in one place.

DuckDB's file readers treat `*`, `?`, `[` and `]` in a path as a glob pattern, so a
warehouse or extracts folder named `wh [prod]` would match nothing (or something else).
Paths are data: every path handed to a reader goes through `scan_path`, which escapes those
characters as one-character classes; `literal` quotes a string for the few places where
DuckDB takes no bound parameter (COPY ... TO, CREATE VIEW).
"""

import re
from pathlib import Path

_GLOB_CHARS = re.compile(r"([\[\]*?])")


def literal(text: str) -> str:
    """A string as a SQL literal."""
    return "'" + text.replace("'", "''") + "'"


def literal_list(texts) -> str:
    """Strings as a SQL list literal (`['a', 'b']`), e.g. the files of one read."""
    return "[" + ", ".join(literal(text) for text in texts) + "]"


def scan_path(path: Path | str, pattern: str = "") -> str:
    """`path` with its glob characters escaped, followed by an (unescaped) `pattern` such as
    `/**/*.parquet`: what a DuckDB reader should be given to read exactly that path."""
    return _GLOB_CHARS.sub(r"[\1]", str(path)) + pattern

