"""A submission's period as DHIS2 names it: 202401 (month), 2024Q1, 2024W5, 2024S1, 2024, 20240115.

Phones send what Iaso's app sends, which is mostly DHIS2's own ISO form already; people also type
2024-01, 2024-W05 or 2024-01-15. A form with a period type takes only periods of that type; a form
without one takes any period of the types forms know.
"""

import datetime
import re

# Our forms' period types (forms_period_type_known) → the shapes accepted, DHIS2's ISO form first.
SHAPES = {
    "DAY": (r"(\d{4})(\d{2})(\d{2})", r"(\d{4})-(\d{2})-(\d{2})"),
    "WEEK": (r"(\d{4})W(\d{1,2})", r"(\d{4})-W(\d{1,2})"),
    "MONTH": (r"(\d{4})(\d{2})", r"(\d{4})-(\d{2})"),
    "QUARTER": (r"(\d{4})Q([1-4])",),
    "SIX_MONTH": (r"(\d{4})S([12])",),
    "YEAR": (r"(\d{4})",),
}


class PeriodProblem(ValueError):
    """Why a submission's period cannot be sent: the reason it is skipped."""


def dhis2_period(raw: str | None, period_type: str | None) -> str:
    """DHIS2's ISO period for `raw`, or PeriodProblem saying why there is none."""
    text = (raw or "").strip()
    if not text:
        raise PeriodProblem("the submission has no period")
    for kind, shapes in SHAPES.items():
        for shape in shapes:
            match = re.fullmatch(shape, text)
            if match is None:
                continue
            if period_type and kind != period_type:
                raise PeriodProblem(
                    f"period {text!r} is a {kind} period, the form's period type is {period_type}"
                )
            return _iso(kind, [int(part) for part in match.groups()], text)
    raise PeriodProblem(f"period {text!r} is not a period DHIS2 knows (e.g. 202401, 2024Q1, 2024W5, 2024)")


def _iso(kind: str, numbers: list[int], text: str) -> str:
    year = numbers[0]
    try:
        if kind == "DAY":
            return datetime.date(year, numbers[1], numbers[2]).strftime("%Y%m%d")
        if kind == "WEEK":
            datetime.date.fromisocalendar(year, numbers[1], 1)
            return f"{year:04d}W{numbers[1]}"
        if kind == "MONTH":
            return datetime.date(year, numbers[1], 1).strftime("%Y%m")
    except ValueError as error:
        raise PeriodProblem(f"period {text!r} is not a real {kind.lower()}") from error
    if kind == "QUARTER":
        return f"{year:04d}Q{numbers[1]}"
    if kind == "SIX_MONTH":
        return f"{year:04d}S{numbers[1]}"
    return f"{year:04d}"
