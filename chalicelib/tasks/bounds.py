"""What is stored and returned stays bounded.

`capped`: a message we store and show again (a task's error, progress message or log line, a
quarantine reason, an import problem) holds at most STORED_MESSAGE_MAX_CHARS, cut with a marker that
says so, and nothing PostgreSQL's text refuses (NUL, lone surrogates).

`check_page`: a list page must fit in one response (PAGE_MAX_BYTES); a larger one is refused with a
400 on `limit` that says how many rows fit, rather than answered with more than a Lambda can return.
"""

from collections.abc import Sequence

from chalicelib.platform import jsonutil, problems
from chalicelib.platform.limits import PAGE_MAX_BYTES, STORED_MESSAGE_MAX_CHARS, limit_message


def capped(text: str, full_in: str | None = None, keep_end: bool = False) -> str:
    """`text` cut to STORED_MESSAGE_MAX_CHARS with a marker, naming the artifact that has it whole
    (`full_in`); `keep_end` keeps its end (a traceback's innermost frames and error)."""
    window = text[-STORED_MESSAGE_MAX_CHARS:] if keep_end else text[:STORED_MESSAGE_MAX_CHARS]
    clean = _storable(window)  # cut first: a 200 MB text is never copied whole
    if len(text) <= STORED_MESSAGE_MAX_CHARS and len(clean) <= STORED_MESSAGE_MAX_CHARS:
        return clean
    marker = _marker(full_in)
    room = STORED_MESSAGE_MAX_CHARS - len(marker)
    return marker + clean[-room:] if keep_end else clean[:room] + marker


def capped_or_none(text: str | None, full_in: str | None = None) -> str | None:
    return None if text is None else capped(text, full_in)


def _marker(full_in: str | None) -> str:
    cut = limit_message("the message", "STORED_MESSAGE_MAX_CHARS", "characters")
    where = f"; the full report is the task's {full_in} artifact" if full_in else ""
    return f"… (cut: {cut}{where})"


def _storable(text: str) -> str:
    """PostgreSQL's text holds neither NUL nor lone surrogates: they are written out instead."""
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    try:
        text.encode()
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode()
    return text


def wire_size(text: str) -> int:
    """The bytes a JSON text (ASCII, as jsonutil writes it) takes in API Gateway's envelope, which
    carries it as a JSON string: every quote and backslash is escaped once more."""
    return len(text) + text.count('"') + text.count("\\")


def check_page(rows: Sequence, noun: str) -> None:
    """Refuses a page of rows that would not fit in a response, as soon as the ones so far do not."""
    total = 0
    for fits, row in enumerate(rows):
        total += wire_size(jsonutil.dumps(row))
        if total > PAGE_MAX_BYTES:
            raise _too_large(len(rows), fits, noun)


def _too_large(count: int, fits: int, noun: str) -> problems.Problem:
    too_much = limit_message(f"a page of {count} {noun}", "PAGE_MAX_BYTES", "bytes")
    advice = f"ask for limit={fits} or less" if fits else f"even one of these {noun} is too large for a page"
    problem = problems.invalid_parameter(
        "limit", f"asks for more than one response can carry: {too_much}; {advice}"
    )
    problem.details["fits"] = fits
    return problem
