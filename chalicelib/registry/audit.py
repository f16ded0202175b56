"""Recording changes. Only the fields that changed are kept, before and after."""

from typing import Any

from chalicelib.platform.jsonutil import jsonb
from chalicelib.registry import audit_sql


def changed_fields(before: dict, after: dict) -> tuple[dict, dict]:
    names = [name for name in after if before.get(name) != after.get(name)]
    return {name: before.get(name) for name in names}, {name: after[name] for name in names}


def record(cur, account_id: int, user_id: int | None, source: str, object_type: str, object_id: int,
           action: str, before: Any, after: Any, task_id: int | None = None) -> None:  # fmt: skip
    audit_sql.insert(
        cur,
        {
            "account_id": account_id,
            "user_id": user_id,
            "task_id": task_id,
            "source": source,
            "object_type": object_type,
            "object_id": object_id,
            "action": action,
            "before": jsonb(before),
            "after": jsonb(after),
        },
    )
