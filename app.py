"""georegistry: every route and trigger, and nothing else. The work is in chalicelib/.

Routes come from the operations declared in the handler modules (`@operation`, platform/contract.py),
in the order listed here; triggers are the functions below."""

from chalice import Chalice, Rate

from chalicelib.handlers import (
    account_api,
    auth_api,
    central_api,
    central_odata_api,
    change_requests_api,
    classification_api,
    collect_tokens_api,
    dhis2_connections_api,
    dhis2_data_api,
    dhis2_push_api,
    dhis2_sync_api,
    form_media_api,
    forms_api,
    http,
    imports_api,
    mobile_api,
    openrosa_api,
    openrosa_gate,
    openrosa_media_api,
    operations,
    orgunits_api,
    sources_api,
    submissions_api,
    system_api,
    tasks_api,
    tiles_api,
    workers,
)
from chalicelib.platform import config, observability
from chalicelib.platform.config import INGEST_QUEUE_NAME, TASKS_DLQ_NAME, TASKS_QUEUE_NAME

app = Chalice(app_name="georegistry")
http.mount(
    app,
    system_api,
    auth_api,
    account_api,
    sources_api,
    classification_api,
    orgunits_api,
    tiles_api,
    imports_api,
    change_requests_api,
    mobile_api,
    submissions_api,
    tasks_api,
    forms_api,
    form_media_api,
    openrosa_api,
    openrosa_media_api,
    collect_tokens_api,
    central_api,
    central_odata_api,
    dhis2_connections_api,
    dhis2_sync_api,
    dhis2_push_api,
    dhis2_data_api,
)


@app.on_sqs_message(queue=TASKS_QUEUE_NAME, batch_size=1)
def run_task(event):
    workers.run_tasks(event)


@app.on_sqs_message(queue=INGEST_QUEUE_NAME, batch_size=10)
def ingest_uploads(event):
    return workers.ingest_uploads(event)


@app.on_sqs_message(queue=TASKS_DLQ_NAME, batch_size=1)
def task_dead_letter(event):
    workers.task_dead_letters(event)


@app.schedule(Rate(5, unit=Rate.MINUTES))
def task_housekeeping(event):
    workers.housekeeping(event)


@app.schedule(Rate(1, unit=Rate.MINUTES))
def dhis2_schedules(event):
    workers.fire_dhis2_schedules(event)


@app.lambda_function(name="migrate")
def migrate(event, context):
    return operations.migrate(event)


@app.lambda_function(name="openrosa_authorizer")
def openrosa_authorizer(event, context):
    return openrosa_gate.authorize(event)


@app.lambda_function(name="create_account")
def create_account(event, context):
    return operations.create_account(event)


config.check_at_start()
observability.settle_after_cold_start()
