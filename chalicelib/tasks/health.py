"""What an operator or a load balancer asks first: can we reach the database and the queues?"""

from chalicelib.platform import aws, config, db
from chalicelib.platform.observability import logger
from chalicelib.tasks import tasks_sql


def report() -> tuple[bool, dict]:
    """(healthy, details). Unhealthy means the database cannot be used; queue trouble is reported."""
    database = _database()
    return database["ok"], {
        "status": "ok" if database["ok"] else "unavailable",
        "stage": config.settings().stage,
        "database": database,
        "queues": {name: _queue_depth(url) for name, url in config.queue_urls().items()},
    }


def _database() -> dict:
    try:
        with db.transaction() as cur:
            versions = tasks_sql.server_versions(cur)
            oldest_queued = tasks_sql.oldest_queued_age_seconds(cur)
        return {
            "ok": True,
            "server": versions["server"],
            "postgis": versions["postgis"],
            "oldest_queued_task_seconds": oldest_queued,
        }
    except Exception as error:
        logger().warning("database unreachable", extra={"error": str(error)})
        db.close()
        return {"ok": False, "error": "database unreachable"}


def _queue_depth(url: str) -> dict:
    try:
        attributes = aws.client("sqs").get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
    except Exception as error:
        logger().warning("queue unreachable", extra={"queue": url, "error": str(error)})
        return {"ok": False, "error": "queue unreachable"}
    return {
        "ok": True,
        "visible": int(attributes["ApproximateNumberOfMessages"]),
        "in_flight": int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    }
