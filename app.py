"""georegistry: every route and trigger, and nothing else. The work is in chalicelib/."""

from chalice import Chalice, Rate

from chalicelib import observability
from chalicelib.config import INGEST_QUEUE_NAME, TASKS_DLQ_NAME, TASKS_QUEUE_NAME
from chalicelib.handlers import (
    account,
    auth,
    change_requests,
    forms,
    imports,
    mobile,
    openrosa,
    operations,
    orgunits,
    registry,
    submissions,
    system,
    tasks,
    workers,
)

app = Chalice(app_name="georegistry")
app.api.binary_types.extend([*forms.BINARY_CONTENT_TYPES, "multipart/form-data"])


def _request():
    return app.current_request


# System


@app.route("/api/health", methods=["GET"])
def health():
    return system.health_check(_request())


@app.route("/api/openapi.json", methods=["GET"])
def openapi_document():
    return system.openapi_document(_request())


# Authentication and the caller


@app.route("/api/auth/login", methods=["POST"])
def login():
    return auth.login(_request())


@app.route("/api/me", methods=["GET"])
def me():
    return auth.me(_request())


@app.route("/api/me/password", methods=["POST"])
def change_password():
    return auth.change_password(_request())


@app.route("/api/me/api-keys", methods=["GET"])
def list_api_keys():
    return auth.list_api_keys(_request())


@app.route("/api/me/api-keys", methods=["POST"])
def create_api_key():
    return auth.create_api_key(_request())


@app.route("/api/me/api-keys/{key_id}", methods=["DELETE"])
def revoke_api_key(key_id):
    return auth.revoke_api_key(_request(), key_id)


# Account, projects, users


@app.route("/api/account", methods=["GET"])
def get_account():
    return account.get_account(_request())


@app.route("/api/account", methods=["PATCH"])
def update_account():
    return account.update_account(_request())


@app.route("/api/projects", methods=["GET"])
def list_projects():
    return account.list_projects(_request())


@app.route("/api/projects", methods=["POST"])
def create_project():
    return account.create_project(_request())


@app.route("/api/projects/{project_id}", methods=["GET"])
def get_project(project_id):
    return account.get_project(_request(), project_id)


@app.route("/api/projects/{project_id}", methods=["PATCH"])
def update_project(project_id):
    return account.update_project(_request(), project_id)


@app.route("/api/projects/{project_id}", methods=["DELETE"])
def delete_project(project_id):
    return account.delete_project(_request(), project_id)


@app.route("/api/users", methods=["GET"])
def list_users():
    return account.list_users(_request())


@app.route("/api/users", methods=["POST"])
def create_user():
    return account.create_user(_request())


@app.route("/api/users/{user_id}", methods=["GET"])
def get_user(user_id):
    return account.get_user(_request(), user_id)


@app.route("/api/users/{user_id}", methods=["PATCH"])
def update_user(user_id):
    return account.update_user(_request(), user_id)


@app.route("/api/users/{user_id}", methods=["DELETE"])
def deactivate_user(user_id):
    return account.deactivate_user(_request(), user_id)


# Registry: data sources, versions, types, groups


@app.route("/api/data-sources", methods=["GET"])
def list_data_sources():
    return registry.list_sources(_request())


@app.route("/api/data-sources", methods=["POST"])
def create_data_source():
    return registry.create_source(_request())


@app.route("/api/data-sources/{source_id}", methods=["GET"])
def get_data_source(source_id):
    return registry.get_source(_request(), source_id)


@app.route("/api/data-sources/{source_id}", methods=["PATCH"])
def update_data_source(source_id):
    return registry.update_source(_request(), source_id)


@app.route("/api/data-sources/{source_id}/versions", methods=["GET"])
def list_versions(source_id):
    return registry.list_versions(_request(), source_id)


@app.route("/api/data-sources/{source_id}/versions", methods=["POST"])
def create_version(source_id):
    return registry.create_version(_request(), source_id)


@app.route("/api/versions/diff", methods=["POST"])
def diff_versions():
    return registry.diff_versions(_request())


@app.route("/api/versions/{version_id}/copy", methods=["POST"])
def copy_version(version_id):
    return registry.copy_version(_request(), version_id)


@app.route("/api/versions/{version_id}", methods=["GET"])
def get_version(version_id):
    return registry.get_version(_request(), version_id)


@app.route("/api/versions/{version_id}/make-default", methods=["POST"])
def make_default_version(version_id):
    return registry.make_default_version(_request(), version_id)


@app.route("/api/orgunit-types", methods=["GET"])
def list_orgunit_types():
    return registry.list_types(_request())


@app.route("/api/orgunit-types", methods=["POST"])
def create_orgunit_type():
    return registry.create_type(_request())


@app.route("/api/orgunit-types/{type_id}", methods=["GET"])
def get_orgunit_type(type_id):
    return registry.get_type(_request(), type_id)


@app.route("/api/orgunit-types/{type_id}", methods=["PATCH"])
def update_orgunit_type(type_id):
    return registry.update_type(_request(), type_id)


@app.route("/api/orgunit-types/{type_id}", methods=["DELETE"])
def delete_orgunit_type(type_id):
    return registry.delete_type(_request(), type_id)


@app.route("/api/groups", methods=["GET"])
def list_groups():
    return registry.list_groups(_request())


@app.route("/api/groups", methods=["POST"])
def create_group():
    return registry.create_group(_request())


@app.route("/api/groups/{group_id}", methods=["GET"])
def get_group(group_id):
    return registry.get_group(_request(), group_id)


@app.route("/api/groups/{group_id}", methods=["PATCH"])
def update_group(group_id):
    return registry.update_group(_request(), group_id)


@app.route("/api/groups/{group_id}", methods=["DELETE"])
def delete_group(group_id):
    return registry.delete_group(_request(), group_id)


@app.route("/api/group-sets", methods=["GET"])
def list_group_sets():
    return registry.list_group_sets(_request())


@app.route("/api/group-sets", methods=["POST"])
def create_group_set():
    return registry.create_group_set(_request())


@app.route("/api/group-sets/{set_id}", methods=["GET"])
def get_group_set(set_id):
    return registry.get_group_set(_request(), set_id)


@app.route("/api/group-sets/{set_id}", methods=["PATCH"])
def update_group_set(set_id):
    return registry.update_group_set(_request(), set_id)


@app.route("/api/group-sets/{set_id}", methods=["DELETE"])
def delete_group_set(set_id):
    return registry.delete_group_set(_request(), set_id)


# Org units


@app.route("/api/orgunits", methods=["GET"])
def list_orgunits():
    return orgunits.list_orgunits(_request())


@app.route("/api/orgunits", methods=["POST"])
def create_orgunit():
    return orgunits.create_orgunit(_request())


@app.route("/api/orgunits/bulk-update", methods=["POST"])
def bulk_update_orgunits():
    return orgunits.bulk_update(_request())


@app.route("/api/orgunits/locate", methods=["GET"])
def locate_orgunits():
    return orgunits.locate_orgunits(_request())


@app.route("/api/imports/upload-url", methods=["POST"])
def import_upload_url():
    return imports.upload_url(_request())


@app.route("/api/imports", methods=["POST"])
def start_import():
    return imports.start_import(_request())


@app.route("/api/exports", methods=["POST"])
def start_export():
    return imports.start_export(_request())


@app.route("/api/change-requests", methods=["GET"])
def list_change_requests():
    return change_requests.list_change_requests(_request())


@app.route("/api/change-requests", methods=["POST"])
def create_change_request():
    return change_requests.create_change_request(_request())


@app.route("/api/change-requests/{request_id}", methods=["GET"])
def get_change_request(request_id):
    return change_requests.get_change_request(_request(), request_id)


@app.route("/api/change-requests/{request_id}/approve", methods=["POST"])
def approve_change_request(request_id):
    return change_requests.approve_change_request(_request(), request_id)


@app.route("/api/change-requests/{request_id}/reject", methods=["POST"])
def reject_change_request(request_id):
    return change_requests.reject_change_request(_request(), request_id)


@app.route("/api/mobile/orgunits", methods=["GET"])
def mobile_orgunits():
    return mobile.orgunit_changes(_request())


@app.route("/api/orgunits/{unit_id}", methods=["GET"])
def get_orgunit(unit_id):
    return orgunits.get_orgunit(_request(), unit_id)


@app.route("/api/orgunits/{unit_id}", methods=["PATCH"])
def update_orgunit(unit_id):
    return orgunits.update_orgunit(_request(), unit_id)


@app.route("/api/orgunits/{unit_id}", methods=["DELETE"])
def delete_orgunit(unit_id):
    return orgunits.delete_orgunit(_request(), unit_id)


@app.route("/api/orgunits/{unit_id}/history", methods=["GET"])
def orgunit_history(unit_id):
    return orgunits.orgunit_history(_request(), unit_id)


# Submissions


@app.route("/api/mobile/submissions/upload-urls", methods=["POST"])
def submission_upload_urls():
    return submissions.upload_urls(_request())


@app.route("/api/mobile/submissions/bulk-upload-url", methods=["POST"])
def submission_bulk_upload_url():
    return submissions.bulk_upload_url(_request())


@app.route("/api/mobile/submissions/bulk", methods=["POST"])
def start_submission_bulk_upload():
    return submissions.start_bulk_upload(_request())


@app.route("/api/submissions", methods=["GET"])
def list_submissions():
    return submissions.list_submissions(_request())


@app.route("/api/submissions/{submission_id}", methods=["GET"])
def get_submission(submission_id):
    return submissions.get_submission(_request(), submission_id)


@app.route("/api/submissions/{submission_id}", methods=["PATCH"])
def review_submission(submission_id):
    return submissions.review_submission(_request(), submission_id)


@app.route("/api/submissions/{submission_id}", methods=["DELETE"])
def delete_submission(submission_id):
    return submissions.delete_submission(_request(), submission_id)


@app.route("/api/submissions/{submission_id}/restore", methods=["POST"])
def restore_submission(submission_id):
    return submissions.restore_submission(_request(), submission_id)


@app.route("/api/quarantined-uploads", methods=["GET"])
def list_quarantined_uploads():
    return submissions.list_quarantined(_request())


# Tasks


@app.route("/api/tasks", methods=["GET"])
def list_tasks():
    return tasks.list_tasks(_request())


@app.route("/api/tasks/demo", methods=["POST"])
def launch_demo_task():
    return tasks.launch_demo(_request())


@app.route("/api/tasks/{task_id}", methods=["GET"])
def get_task(task_id):
    return tasks.get_task(_request(), task_id)


@app.route("/api/tasks/{task_id}/kill", methods=["POST"])
def kill_task(task_id):
    return tasks.kill_task(_request(), task_id)


@app.route("/api/tasks/{task_id}/relaunch", methods=["POST"])
def relaunch_task(task_id):
    return tasks.relaunch_task(_request(), task_id)


@app.route("/api/tasks/{task_id}/logs", methods=["GET"])
def task_logs(task_id):
    return tasks.task_logs(_request(), task_id)


# Forms


@app.route("/api/forms", methods=["GET"])
def list_forms():
    return forms.list_forms(_request())


@app.route("/api/forms", methods=["POST"])
def create_form():
    return forms.create_form(_request())


@app.route("/api/forms/{form_id}", methods=["GET"])
def get_form(form_id):
    return forms.get_form(_request(), form_id)


@app.route("/api/forms/{form_id}", methods=["PATCH"])
def update_form(form_id):
    return forms.update_form(_request(), form_id)


@app.route("/api/forms/{form_id}", methods=["DELETE"])
def delete_form(form_id):
    return forms.delete_form(_request(), form_id)


@app.route("/api/forms/{form_id}/versions/upload-url", methods=["POST"])
def form_version_upload_url(form_id):
    return forms.version_upload_url(_request(), form_id)


@app.route("/api/forms/{form_id}/versions", methods=["GET"])
def list_form_versions(form_id):
    return forms.list_versions(_request(), form_id)


@app.route("/api/forms/{form_id}/versions", methods=["POST"], content_types=forms.VERSION_CONTENT_TYPES)
def create_form_version(form_id):
    return forms.create_version(_request(), form_id)


@app.route("/api/forms/{form_id}/versions/{number}", methods=["GET"])
def get_form_version(form_id, number):
    return forms.get_version(_request(), form_id, number)


@app.route("/api/forms/{form_id}/versions/{number}/xform", methods=["GET"])
def form_version_xform(form_id, number):
    return forms.version_xform(_request(), form_id, number)


@app.route("/api/mobile/forms", methods=["GET"])
def mobile_forms():
    return forms.mobile_forms(_request())


@app.route("/api/openrosa/{project_id}/formList", methods=["GET"])
def openrosa_form_list(project_id):
    return openrosa.form_list(_request(), project_id)


@app.route("/api/openrosa/{project_id}/submission", methods=["HEAD"])
def openrosa_submission_head(project_id):
    return openrosa.submission_head(_request(), project_id)


@app.route("/api/openrosa/{project_id}/submission", methods=["POST"], content_types=["multipart/form-data"])
def openrosa_submission(project_id):
    return openrosa.submission_post(_request(), project_id)


@app.route("/api/openrosa/{project_id}/forms/{form_id}", methods=["GET"])
def openrosa_form_download(project_id, form_id):
    return openrosa.form_download(_request(), project_id, form_id)


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
