"""Powertools singletons. Logger and Metrics read POWERTOOLS_* variables when constructed, which
happens on first use here, not at import, so tests and the local stack can set them first."""

from functools import cache

from aws_lambda_powertools import Logger, Metrics


@cache
def logger() -> Logger:
    return Logger(service="georegistry")


@cache
def metrics() -> Metrics:
    return Metrics(namespace="georegistry")
