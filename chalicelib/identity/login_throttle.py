"""Failed logins are counted per email and per client address; past LOGIN_FAILURES_PER_MINUTE in a
minute, logins for that email or from that address get 429 with Retry-After until the minute ends,
without the password being checked. Refused attempts are not counted, so a guesser cannot keep the
real user out beyond the minute; a successful login clears its email's count."""

from chalicelib.identity import login_failures_sql
from chalicelib.platform import db, problems
from chalicelib.platform.limits import LOGIN_FAILURES_PER_MINUTE, limit_message
from chalicelib.platform.observability import logger

WINDOW_SECONDS = 60  # the minute of LOGIN_FAILURES_PER_MINUTE


def refuse_if_throttled(cur, email: str, address: str | None) -> None:
    keys = _keys(email, address)
    seconds = login_failures_sql.throttled_for(cur, keys, LOGIN_FAILURES_PER_MINUTE, WINDOW_SECONDS)
    if seconds is not None:
        logger().warning("login throttled", extra={"retry_after": seconds})
        raise too_many_attempts(max(seconds, 1))


def record_failure(email: str, address: str | None) -> None:
    # On the side connection: the 401 that follows rolls the request's transaction back.
    try:
        with db.side_cursor() as side:
            login_failures_sql.count_failure(side, _keys(email, address), WINDOW_SECONDS)
            login_failures_sql.purge(side, WINDOW_SECONDS)
    finally:
        db.close_side()  # an API container keeps one connection of the database's budget, not two


def reset(cur, email: str) -> None:
    login_failures_sql.forget(cur, *_keys(email, None)[0])


def too_many_attempts(seconds: int) -> problems.Problem:
    what = "The number of failed logins for this email or from this address"
    message = f"{limit_message(what, 'LOGIN_FAILURES_PER_MINUTE', 'per minute')}; retry in {seconds} s."
    return problems.Problem(
        429, "auth.too_many_attempts", message, {"retry_after": seconds}, {"Retry-After": str(seconds)}
    )


def _keys(email: str, address: str | None) -> list[tuple[str, str]]:
    keys = [("email", email.strip().lower())]
    return keys + [("address", address)] if address else keys
