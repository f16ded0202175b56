"""The settings a deployed stage is given (infra/app.yaml sets them), for tests that pose as one."""

DEPLOYED = {
    "UPLOADS_BUCKET": "u",
    "EXPORTS_BUCKET": "e",
    "FORMS_BUCKET": "f",
    "TASKS_QUEUE_URL": "http://q/tasks",
    "TASKS_DLQ_URL": "http://q/dlq",
    "DB_SECRET_ARN": "arn:db",
    "TOKEN_SECRET_ARN": "arn:token",
}


def pose_as_deployed(monkeypatch, stage: str = "dev") -> None:
    monkeypatch.setenv("STAGE", stage)
    for name, value in DEPLOYED.items():
        monkeypatch.setenv(name, value)
