"""Errors and reasons as the one short line a person reads (a CLI error, a log line, a reject)."""


def one_line(text: object, limit: int | None = None, empty: str = "") -> str:
    """The first non-blank line of `text` (an exception's message can carry a traceback or a
    list of files), cut to `limit` characters with an ellipsis."""
    line = (str(text).strip().splitlines() or [empty])[0]
    return line if limit is None or len(line) <= limit else line[:limit - 3] + "..."
