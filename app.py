"""georegistry: every route and trigger, and nothing else. The work is in chalicelib/."""

from chalice import Chalice, Rate

from chalicelib.config import TASKS_DLQ_NAME, TASKS_QUEUE_NAME
from chalicelib.handlers import account, auth, system, tasks, workers

app = Chalice(app_name="georegistry")


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


# Workers and schedules


@app.on_sqs_message(queue=TASKS_QUEUE_NAME, batch_size=1)
def run_task(event):
    workers.run_tasks(event)


@app.on_sqs_message(queue=TASKS_DLQ_NAME, batch_size=1)
def task_dead_letter(event):
    workers.task_dead_letters(event)


@app.schedule(Rate(5, unit=Rate.MINUTES))
def task_housekeeping(event):
    workers.housekeeping(event)
