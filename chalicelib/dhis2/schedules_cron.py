"""EventBridge schedule expressions: `rate(15 minutes)` and `cron(minutes hours day-of-month month
day-of-week year)` (UTC), as AWS writes them: `?` in one of the two day fields, `*`, lists, ranges,
steps, JAN-DEC and SUN-SAT (day-of-week 1-7 is SUN-SAT). `L`, `W` and `#` are refused, by name.
`next_after` gives the first minute the expression fires after a time."""

import datetime
import re

RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
CRON = re.compile(r"^cron\((.+)\)$")
UNIT_MINUTES = {"minute": 1, "hour": 60, "day": 1440}
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
FIELDS = (
    ("minutes", 0, 59, None),
    ("hours", 0, 23, None),
    ("day-of-month", 1, 31, None),
    ("month", 1, 12, MONTHS),
    ("day-of-week", 1, 7, DAYS),
    ("year", 1970, 2199, None),
)
SEARCH_DAYS = 366 * 5


class ExpressionError(ValueError):
    """The expression is not one EventBridge takes (the message says which part)."""


def check(expression: str) -> None:
    parse(expression)


def parse(expression: str):
    rate = RATE.match(expression)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2)
        if value < 1 or (value == 1) != (not unit.endswith("s")):
            raise ExpressionError(
                "a rate is rate(1 minute) or rate(N minutes) with N > 1 (hours, days alike)"
            )
        return ("rate", value * UNIT_MINUTES[unit.rstrip("s")])
    cron = CRON.match(expression)
    if not cron:
        raise ExpressionError(
            "must be rate(value unit) or cron(minutes hours day-of-month month day-of-week year)"
        )
    parts = cron.group(1).split()
    if len(parts) != 6:
        raise ExpressionError(
            "a cron expression has 6 fields: minutes hours day-of-month month day-of-week year"
        )
    if (parts[2] == "?") == (parts[4] == "?"):
        raise ExpressionError("exactly one of day-of-month and day-of-week must be '?'")
    return ("cron", [_field(text, *spec) for text, spec in zip(parts, FIELDS, strict=True)])


def _field(text: str, name: str, low: int, high: int, names: list[str] | None) -> set[int] | None:
    if text in ("*", "?"):
        return None
    if any(mark in text for mark in "LW#"):
        raise ExpressionError(f"{name}: L, W and # are not supported")
    values: set[int] = set()
    for item in text.split(","):
        span, _, step = item.partition("/")
        first, _, last = span.partition("-")
        start = low if first == "*" else _value(first, name, low, high, names)
        end = (high if first == "*" or step else start) if not last else _value(last, name, low, high, names)
        stride = int(step) if step.isdigit() and int(step) > 0 else None
        if step and stride is None:
            raise ExpressionError(f"{name}: the step {step!r} is not a positive number")
        values.update(range(start, end + 1, stride or 1))
    return values


def _value(text: str, name: str, low: int, high: int, names: list[str] | None) -> int:
    if names and text.upper() in names:
        return names.index(text.upper()) + 1
    if not text.isdigit() or not low <= int(text) <= high:
        raise ExpressionError(f"{name}: {text!r} is not between {low} and {high}")
    return int(text)


def next_after(expression: str, after: datetime.datetime) -> datetime.datetime:
    """The first time the expression fires strictly after `after` (UTC, to the minute)."""
    kind, spec = parse(expression)
    start = after.astimezone(datetime.UTC).replace(second=0, microsecond=0)
    if kind == "rate":
        return start + datetime.timedelta(minutes=spec)
    minutes, hours, days, months, weekdays, years = spec
    day = start.date()
    for _ in range(SEARCH_DAYS):
        if _day_matches(day, days, months, weekdays, years):
            for hour in sorted(hours) if hours is not None else range(24):
                for minute in sorted(minutes) if minutes is not None else range(60):
                    when = datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=datetime.UTC)
                    if when > start:
                        return when
        day += datetime.timedelta(days=1)
    raise ExpressionError("the expression never fires in the next five years")


def _day_matches(day: datetime.date, days, months, weekdays, years) -> bool:
    weekday = (day.isoweekday() % 7) + 1  # EventBridge: 1 = SUN
    return (
        (days is None or day.day in days)
        and (months is None or day.month in months)
        and (weekdays is None or weekday in weekdays)
        and (years is None or day.year in years)
    )
