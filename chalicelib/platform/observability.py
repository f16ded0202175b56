"""Powertools singletons. Logger and Metrics read POWERTOOLS_* variables when constructed, which
happens on first use here, not at import, so tests and the local stack can set them first."""

import gc
import os
from functools import cache

from aws_lambda_powertools import Logger, Metrics

DEFAULT_METRICS_NAMESPACE = "georegistry"


@cache
def logger() -> Logger:
    made = Logger(service="georegistry")
    # Chalice(app_name="georegistry") gave the same stdlib logger a text handler of its own: with
    # it, every record came out twice, as text and as JSON. Ours is the JSON one.
    for handler in [h for h in made.handlers if h is not made.logger_handler]:
        made.removeHandler(handler)
    return made


@cache
def metrics() -> Metrics:
    # One namespace per stage (georegistry-dev, georegistry-prod: .chalice/config.json), so that two
    # stages in one account do not add up on the dashboard (infra/app.yaml reads the same name).
    return Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_METRICS_NAMESPACE)


def settle_after_cold_start() -> None:
    """What the cold start loaded (libraries, the app) lives as long as the container: set it apart
    from the garbage collector's full passes, which otherwise stalled a request now and then by
    ~30 ms scanning it all (bench/README.md)."""
    gc.collect()
    gc.freeze()
