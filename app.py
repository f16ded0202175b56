"""georegistry: every route and trigger, and nothing else. The work is in chalicelib/."""

from chalice import Chalice, Rate

from chalicelib.handlers import (
    account_api,
    auth_api,
    change_requests_api,
    forms_api,
    imports_api,
    mobile_api,
    openrosa_api,
    operations,
    orgunits_api,
    registry_api,
    submissions_api,
    system_api,
    tasks_api,
    workers,
)
from chalicelib.platform import observability
from chalicelib.platform.config import INGEST_QUEUE_NAME, TASKS_DLQ_NAME, TASKS_QUEUE_NAME

app = Chalice(app_name="georegistry")
app.api.binary_types.extend([*forms_api.BINARY_CONTENT_TYPES, "multipart/form-data"])


def _request():
    return app.current_request


# System


@app.route("/api/health", methods=["GET"])
def health():
    return system_api.health_check(_request())


@app.route("/api/openapi.json", methods=["GET"])
def openapi_document():
    return system_api.openapi_document(_request())


# Authentication and the caller


@app.route("/api/auth/login", methods=["POST"])
def login():
    return auth_api.login(_request())


@app.route("/api/me", methods=["GET"])
def me():
    return auth_api.me(_request())


@app.route("/api/me/password", methods=["POST"])
def change_password():
    return auth_api.change_password(_request())


@app.route("/api/me/api-keys", methods=["GET"])
def list_api_keys():
    return auth_api.list_api_keys(_request())


@app.route("/api/me/api-keys", methods=["POST"])
def create_api_key():
    return auth_api.create_api_key(_request())


@app.route("/api/me/api-keys/{key_id}", methods=["DELETE"])
def revoke_api_key(key_id):
    return auth_api.revoke_api_key(_request(), key_id)


# Account, projects, users


@app.route("/api/account", methods=["GET"])
def get_account():
    return account_api.get_account(_request())


@app.route("/api/account", methods=["PATCH"])
def update_account():
    return account_api.update_account(_request())


@app.route("/api/projects", methods=["GET"])
def list_projects():
    return account_api.list_projects(_request())


@app.route("/api/projects", methods=["POST"])
def create_project():
    return account_api.create_project(_request())


@app.route("/api/projects/{project_id}", methods=["GET"])
def get_project(project_id):
    return account_api.get_project(_request(), project_id)


@app.route("/api/projects/{project_id}", methods=["PATCH"])
def update_project(project_id):
    return account_api.update_project(_request(), project_id)


@app.route("/api/projects/{project_id}", methods=["DELETE"])
def delete_project(project_id):
    return account_api.delete_project(_request(), project_id)


@app.route("/api/users", methods=["GET"])
def list_users():
    return account_api.list_users(_request())


@app.route("/api/users", methods=["POST"])
def create_user():
    return account_api.create_user(_request())


@app.route("/api/users/{user_id}", methods=["GET"])
def get_user(user_id):
    return account_api.get_user(_request(), user_id)


@app.route("/api/users/{user_id}", methods=["PATCH"])
def update_user(user_id):
    return account_api.update_user(_request(), user_id)


@app.route("/api/users/{user_id}", methods=["DELETE"])
def deactivate_user(user_id):
    return account_api.deactivate_user(_request(), user_id)


# Registry: data sources, versions, types, groups


@app.route("/api/data-sources", methods=["GET"])
def list_data_sources():
    return registry_api.list_sources(_request())


@app.route("/api/data-sources", methods=["POST"])
def create_data_source():
    return registry_api.create_source(_request())


@app.route("/api/data-sources/{source_id}", methods=["GET"])
def get_data_source(source_id):
    return registry_api.get_source(_request(), source_id)


@app.route("/api/data-sources/{source_id}", methods=["PATCH"])
def update_data_source(source_id):
    return registry_api.update_source(_request(), source_id)


@app.route("/api/data-sources/{source_id}/versions", methods=["GET"])
def list_versions(source_id):
    return registry_api.list_versions(_request(), source_id)


@app.route("/api/data-sources/{source_id}/versions", methods=["POST"])
def create_version(source_id):
    return registry_api.create_version(_request(), source_id)


@app.route("/api/versions/diff", methods=["POST"])
def diff_versions():
    return registry_api.diff_versions(_request())


@app.route("/api/versions/{version_id}/copy", methods=["POST"])
def copy_version(version_id):
    return registry_api.copy_version(_request(), version_id)


@app.route("/api/versions/{version_id}", methods=["GET"])
def get_version(version_id):
    return registry_api.get_version(_request(), version_id)


@app.route("/api/versions/{version_id}/make-default", methods=["POST"])
def make_default_version(version_id):
    return registry_api.make_default_version(_request(), version_id)


@app.route("/api/orgunit-types", methods=["GET"])
def list_orgunit_types():
    return registry_api.list_types(_request())


@app.route("/api/orgunit-types", methods=["POST"])
def create_orgunit_type():
    return registry_api.create_type(_request())


@app.route("/api/orgunit-types/{type_id}", methods=["GET"])
def get_orgunit_type(type_id):
    return registry_api.get_type(_request(), type_id)


@app.route("/api/orgunit-types/{type_id}", methods=["PATCH"])
def update_orgunit_type(type_id):
    return registry_api.update_type(_request(), type_id)


@app.route("/api/orgunit-types/{type_id}", methods=["DELETE"])
def delete_orgunit_type(type_id):
    return registry_api.delete_type(_request(), type_id)


@app.route("/api/groups", methods=["GET"])
def list_groups():
    return registry_api.list_groups(_request())


@app.route("/api/groups", methods=["POST"])
def create_group():
    return registry_api.create_group(_request())


@app.route("/api/groups/{group_id}", methods=["GET"])
def get_group(group_id):
    return registry_api.get_group(_request(), group_id)


@app.route("/api/groups/{group_id}", methods=["PATCH"])
def update_group(group_id):
    return registry_api.update_group(_request(), group_id)


@app.route("/api/groups/{group_id}", methods=["DELETE"])
def delete_group(group_id):
    return registry_api.delete_group(_request(), group_id)


@app.route("/api/group-sets", methods=["GET"])
def list_group_sets():
    return registry_api.list_group_sets(_request())


@app.route("/api/group-sets", methods=["POST"])
def create_group_set():
    return registry_api.create_group_set(_request())


@app.route("/api/group-sets/{set_id}", methods=["GET"])
def get_group_set(set_id):
    return registry_api.get_group_set(_request(), set_id)


@app.route("/api/group-sets/{set_id}", methods=["PATCH"])
def update_group_set(set_id):
    return registry_api.update_group_set(_request(), set_id)


@app.route("/api/group-sets/{set_id}", methods=["DELETE"])
def delete_group_set(set_id):
    return registry_api.delete_group_set(_request(), set_id)


# Org units


@app.route("/api/orgunits", methods=["GET"])
def list_orgunits():
    return orgunits_api.list_orgunits(_request())


@app.route("/api/orgunits", methods=["POST"])
def create_orgunit():
    return orgunits_api.create_orgunit(_request())


@app.route("/api/orgunits/bulk-update", methods=["POST"])
def bulk_update_orgunits():
    return orgunits_api.bulk_update_units(_request())


@app.route("/api/orgunits/locate", methods=["GET"])
def locate_orgunits():
    return orgunits_api.locate_orgunits(_request())


@app.route("/api/imports/upload-url", methods=["POST"])
def import_upload_url():
    return imports_api.upload_url(_request())


@app.route("/api/imports", methods=["POST"])
def start_import():
    return imports_api.start_import(_request())


@app.route("/api/exports", methods=["POST"])
def start_export():
    return imports_api.start_export(_request())


@app.route("/api/change-requests", methods=["GET"])
def list_change_requests():
    return change_requests_api.list_change_requests(_request())


@app.route("/api/change-requests", methods=["POST"])
def create_change_request():
    return change_requests_api.create_change_request(_request())


@app.route("/api/change-requests/{request_id}", methods=["GET"])
def get_change_request(request_id):
    return change_requests_api.get_change_request(_request(), request_id)


@app.route("/api/change-requests/{request_id}/approve", methods=["POST"])
def approve_change_request(request_id):
    return change_requests_api.approve_change_request(_request(), request_id)


@app.route("/api/change-requests/{request_id}/reject", methods=["POST"])
def reject_change_request(request_id):
    return change_requests_api.reject_change_request(_request(), request_id)


@app.route("/api/mobile/orgunits", methods=["GET"])
def mobile_orgunits():
    return mobile_api.orgunit_changes(_request())


@app.route("/api/orgunits/{unit_id}", methods=["GET"])
def get_orgunit(unit_id):
    return orgunits_api.get_orgunit(_request(), unit_id)


@app.route("/api/orgunits/{unit_id}", methods=["PATCH"])
def update_orgunit(unit_id):
    return orgunits_api.update_orgunit(_request(), unit_id)


@app.route("/api/orgunits/{unit_id}", methods=["DELETE"])
def delete_orgunit(unit_id):
    return orgunits_api.delete_orgunit(_request(), unit_id)


@app.route("/api/orgunits/{unit_id}/history", methods=["GET"])
def orgunit_history(unit_id):
    return orgunits_api.orgunit_history(_request(), unit_id)


# Submissions


@app.route("/api/mobile/submissions/upload-urls", methods=["POST"])
def submission_upload_urls():
    return submissions_api.upload_urls(_request())


@app.route("/api/mobile/submissions/bulk-upload-url", methods=["POST"])
def submission_bulk_upload_url():
    return submissions_api.bulk_upload_url(_request())


@app.route("/api/mobile/submissions/bulk", methods=["POST"])
def start_submission_bulk_upload():
    return submissions_api.start_bulk_upload(_request())


@app.route("/api/submissions", methods=["GET"])
def list_submissions():
    return submissions_api.list_submissions(_request())


@app.route("/api/submissions/{submission_id}", methods=["GET"])
def get_submission(submission_id):
    return submissions_api.get_submission(_request(), submission_id)


@app.route("/api/submissions/{submission_id}", methods=["PATCH"])
def review_submission(submission_id):
    return submissions_api.review_submission(_request(), submission_id)


@app.route("/api/submissions/{submission_id}", methods=["DELETE"])
def delete_submission(submission_id):
    return submissions_api.delete_submission(_request(), submission_id)


@app.route("/api/submissions/{submission_id}/restore", methods=["POST"])
def restore_submission(submission_id):
    return submissions_api.restore_submission(_request(), submission_id)


@app.route("/api/quarantined-uploads", methods=["GET"])
def list_quarantined_uploads():
    return submissions_api.list_quarantined(_request())


# Tasks


@app.route("/api/tasks", methods=["GET"])
def list_tasks():
    return tasks_api.list_tasks(_request())


@app.route("/api/tasks/demo", methods=["POST"])
def launch_demo_task():
    return tasks_api.launch_demo(_request())


@app.route("/api/tasks/{task_id}", methods=["GET"])
def get_task(task_id):
    return tasks_api.get_task(_request(), task_id)


@app.route("/api/tasks/{task_id}/kill", methods=["POST"])
def kill_task(task_id):
    return tasks_api.kill_task(_request(), task_id)


@app.route("/api/tasks/{task_id}/relaunch", methods=["POST"])
def relaunch_task(task_id):
    return tasks_api.relaunch_task(_request(), task_id)


@app.route("/api/tasks/{task_id}/logs", methods=["GET"])
def task_logs(task_id):
    return tasks_api.task_logs(_request(), task_id)


# Forms


@app.route("/api/forms", methods=["GET"])
def list_forms():
    return forms_api.list_forms(_request())


@app.route("/api/forms", methods=["POST"])
def create_form():
    return forms_api.create_form(_request())


@app.route("/api/forms/{form_id}", methods=["GET"])
def get_form(form_id):
    return forms_api.get_form(_request(), form_id)


@app.route("/api/forms/{form_id}", methods=["PATCH"])
def update_form(form_id):
    return forms_api.update_form(_request(), form_id)


@app.route("/api/forms/{form_id}", methods=["DELETE"])
def delete_form(form_id):
    return forms_api.delete_form(_request(), form_id)


@app.route("/api/forms/{form_id}/versions/upload-url", methods=["POST"])
def form_version_upload_url(form_id):
    return forms_api.version_upload_url(_request(), form_id)


@app.route("/api/forms/{form_id}/versions", methods=["GET"])
def list_form_versions(form_id):
    return forms_api.list_versions(_request(), form_id)


@app.route("/api/forms/{form_id}/versions", methods=["POST"], content_types=forms_api.VERSION_CONTENT_TYPES)
def create_form_version(form_id):
    return forms_api.create_version(_request(), form_id)


@app.route("/api/forms/{form_id}/versions/{number}", methods=["GET"])
def get_form_version(form_id, number):
    return forms_api.get_version(_request(), form_id, number)


@app.route("/api/forms/{form_id}/versions/{number}/xform", methods=["GET"])
def form_version_xform(form_id, number):
    return forms_api.version_xform(_request(), form_id, number)


@app.route("/api/mobile/forms", methods=["GET"])
def mobile_forms():
    return forms_api.mobile_forms(_request())


@app.route("/api/openrosa/{project_id}/formList", methods=["GET"])
def openrosa_form_list(project_id):
    return openrosa_api.form_list(_request(), project_id)


@app.route("/api/openrosa/{project_id}/submission", methods=["HEAD"])
def openrosa_submission_head(project_id):
    return openrosa_api.submission_head(_request(), project_id)


@app.route("/api/openrosa/{project_id}/submission", methods=["POST"], content_types=["multipart/form-data"])
def openrosa_submission(project_id):
    return openrosa_api.submission_post(_request(), project_id)


@app.route("/api/openrosa/{project_id}/forms/{form_id}", methods=["GET"])
def openrosa_form_download(project_id, form_id):
    return openrosa_api.form_download(_request(), project_id, form_id)


# Workers and schedules


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


# Operations: invoked with `aws lambda invoke` (infra/deploy.sh runs migrate after each deploy)


@app.lambda_function(name="migrate")
def migrate(event, context):
    return operations.migrate(event)


@app.lambda_function(name="create_account")
def create_account(event, context):
    return operations.create_account(event)


observability.settle_after_cold_start()
