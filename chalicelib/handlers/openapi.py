"""The OpenAPI 3 description of the API, served at GET /api/openapi.json.

OPERATIONS lists every route; a test checks that it and app.py's routes are the same set.
"""

from dataclasses import dataclass
from functools import cache

from chalicelib.forms.form_rules import PERIOD_TYPES
from chalicelib.identity.permissions import ROLES

VERSION = "0.1.0"


def _obj(properties: dict, required: list[str] | None = None) -> dict:
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _page_of(name: str) -> dict:
    return _obj(
        {
            "results": {"type": "array", "items": _ref(name)},
            "next_cursor": {"type": "string", "nullable": True},
        }
    )


STRING, INTEGER, BOOLEAN = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
TIMESTAMP = {"type": "string", "format": "date-time", "nullable": True}
IDS = {"type": "array", "items": INTEGER}
ROLE = {"type": "string", "enum": sorted(ROLES)}

SCHEMAS = {
    "Error": _obj(
        {
            "error": _obj(
                {"code": STRING, "message": STRING, "details": {"type": "object"}},
                ["code", "message", "details"],
            )
        },
        ["error"],
    ),
    "Login": _obj({"email": STRING, "password": STRING}, ["email", "password"]),
    "Token": _obj({"token": STRING, "token_type": STRING, "expires_in": INTEGER}),
    "PasswordChange": _obj(
        {"current_password": STRING, "new_password": STRING}, ["current_password", "new_password"]
    ),
    "Account": _obj({"id": INTEGER, "name": STRING, "created_at": TIMESTAMP, "updated_at": TIMESTAMP}),
    "AccountUpdate": _obj({"name": STRING}, ["name"]),
    "Project": _obj(
        {
            "id": INTEGER,
            "account_id": INTEGER,
            "name": STRING,
            "app_id": STRING,
            "needs_authentication": BOOLEAN,
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
        }
    ),
    "ProjectCreate": _obj(
        {"name": STRING, "app_id": STRING, "needs_authentication": BOOLEAN}, ["name", "app_id"]
    ),
    "ProjectUpdate": _obj({"name": STRING, "app_id": STRING, "needs_authentication": BOOLEAN}),
    "User": _obj(
        {
            "id": INTEGER,
            "email": STRING,
            "full_name": STRING,
            "is_active": BOOLEAN,
            "account_id": INTEGER,
            "role": ROLE,
            "project_ids": IDS,
            "last_login_at": TIMESTAMP,
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
        }
    ),
    "UserCreate": _obj(
        {"email": STRING, "full_name": STRING, "role": ROLE, "password": STRING, "project_ids": IDS},
        ["email", "role"],
    ),
    "UserUpdate": _obj(
        {
            "email": STRING,
            "full_name": STRING,
            "role": ROLE,
            "password": STRING,
            "project_ids": IDS,
            "org_unit_ids": IDS,
            "is_active": BOOLEAN,
        }
    ),
    "Me": {
        "allOf": [
            _ref("User"),
            _obj({"account": _ref("Account"), "permissions": {"type": "array", "items": STRING}}),
        ]
    },
    "ApiKey": _obj(
        {
            "id": INTEGER,
            "name": STRING,
            "prefix": STRING,
            "key": {"type": "string", "description": "Only in the response that creates the key."},
            "created_at": TIMESTAMP,
            "expires_at": TIMESTAMP,
            "last_used_at": TIMESTAMP,
            "revoked_at": TIMESTAMP,
        }
    ),
    "ApiKeyCreate": _obj({"name": STRING, "expires_in_days": INTEGER}, ["name"]),
    "Task": _obj(
        {
            "id": INTEGER,
            "kind": STRING,
            "status": {"type": "string", "enum": ["QUEUED", "RUNNING", "SUCCESS", "ERRORED", "KILLED"]},
            "params": {"type": "object"},
            "progress": _obj(
                {"value": INTEGER, "end": INTEGER, "percent": {"type": "number"}, "message": STRING}
            ),
            "result": {"nullable": True},
            "error": {"type": "string", "nullable": True},
            "artifacts": {
                "type": "array",
                "items": _obj(
                    {
                        "name": STRING,
                        "content_type": STRING,
                        "size": INTEGER,
                        "url": STRING,
                        "expires_in": INTEGER,
                    }
                ),
            },
            "attempts": INTEGER,
            "launcher_id": INTEGER,
            "unique_key": {"type": "string", "nullable": True},
            "should_be_killed": BOOLEAN,
            "relaunched_from": {"type": "integer", "nullable": True},
            "created_at": TIMESTAMP,
            "started_at": TIMESTAMP,
            "ended_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
        }
    ),
    "TaskLog": _obj({"id": INTEGER, "created_at": TIMESTAMP, "level": STRING, "message": STRING}),
    "DemoTask": _obj(
        {
            "n": INTEGER,
            "sleep_seconds": {"type": "number"},
            "fail": {"type": "string", "enum": ["input", "transient"]},
            "fail_times": INTEGER,
            "unique_key": STRING,
        },
        ["n"],
    ),
    "Health": _obj(
        {"status": STRING, "stage": STRING, "database": {"type": "object"}, "queues": {"type": "object"}}
    ),
    "DataSource": _obj(
        {
            "id": INTEGER,
            "name": STRING,
            "description": STRING,
            "read_only": BOOLEAN,
            "default_version_id": INTEGER,
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
        }
    ),
    "DataSourceWrite": _obj(
        {"name": STRING, "description": STRING, "read_only": BOOLEAN, "default_version_id": INTEGER}
    ),
    "Version": _obj(
        {
            "id": INTEGER,
            "data_source_id": INTEGER,
            "number": INTEGER,
            "description": STRING,
            "org_unit_count": INTEGER,
            "created_at": TIMESTAMP,
        }
    ),
    "VersionWrite": _obj({"description": STRING}),
    "OrgUnitType": _obj(
        {"id": INTEGER, "name": STRING, "short_name": STRING, "depth": INTEGER, "sub_type_ids": IDS}
    ),
    "OrgUnitTypeWrite": _obj({"name": STRING, "short_name": STRING, "depth": INTEGER, "sub_type_ids": IDS}),
    "Group": _obj(
        {
            "id": INTEGER,
            "version_id": INTEGER,
            "name": STRING,
            "source_ref": STRING,
            "org_unit_count": INTEGER,
        }
    ),
    "GroupWrite": _obj({"version_id": INTEGER, "name": STRING, "source_ref": STRING}),
    "GroupSet": _obj({"id": INTEGER, "name": STRING, "group_ids": IDS}),
    "GroupSetWrite": _obj({"name": STRING, "group_ids": IDS}),
    "OrgUnit": _obj(
        {
            "id": INTEGER,
            "uuid": STRING,
            "version_id": INTEGER,
            "parent_id": INTEGER,
            "parent_name": STRING,
            "org_unit_type_id": INTEGER,
            "org_unit_type_name": STRING,
            "name": STRING,
            "code": STRING,
            "source_ref": STRING,
            "aliases": {"type": "array", "items": STRING},
            "validation_status": {"type": "string", "enum": ["NEW", "VALID", "REJECTED"]},
            "opening_date": {"type": "string", "format": "date", "nullable": True},
            "closed_date": {"type": "string", "format": "date", "nullable": True},
            "extra_fields": {"type": "object"},
            "depth": INTEGER,
            "ancestor_ids": IDS,
            "location": {"type": "object", "nullable": True, "description": "GeoJSON Point"},
            "has_territory": BOOLEAN,
            "geom": {
                "type": "object",
                "nullable": True,
                "description": "GeoJSON MultiPolygon, with with_geometry=true",
            },
            "group_ids": IDS,
            "ancestors": {"type": "array", "items": {"type": "object"}},
            "warnings": {"type": "array", "items": STRING},
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
        }
    ),
    "OrgUnitWrite": _obj(
        {
            "version_id": INTEGER,
            "name": STRING,
            "parent_id": INTEGER,
            "org_unit_type_id": INTEGER,
            "code": STRING,
            "source_ref": STRING,
            "aliases": {"type": "array", "items": STRING},
            "validation_status": STRING,
            "opening_date": STRING,
            "closed_date": STRING,
            "extra_fields": {"type": "object"},
            "location": {"type": "object", "description": "GeoJSON Point, lon/lat"},
            "geom": {"type": "object", "description": "GeoJSON Polygon or MultiPolygon"},
            "group_ids": IDS,
        }
    ),
    "ChangeRequest": _obj(
        {
            "id": INTEGER,
            "version_id": INTEGER,
            "org_unit_id": INTEGER,
            "org_unit_name": STRING,
            "proposed": {"type": "object"},
            "creates_unit": BOOLEAN,
            "status": {"type": "string", "enum": ["new", "approved", "rejected"]},
            "approved_fields": {"type": "array", "items": STRING},
            "rejection_reason": {"type": "string", "nullable": True},
            "created_by": INTEGER,
            "reviewed_by": INTEGER,
            "created_at": TIMESTAMP,
            "reviewed_at": TIMESTAMP,
        }
    ),
    "ChangeRequestCreate": _obj(
        {"org_unit_id": INTEGER, "proposed": _ref("OrgUnitWrite"), "new_unit": _ref("OrgUnitWrite")}
    ),
    "ChangeRequestApproval": _obj({"fields": {"type": "array", "items": STRING}}),
    "ChangeRequestRejection": _obj({"reason": STRING}, ["reason"]),
    "BulkUpdate": _obj(
        {
            "filters": {"type": "object", "description": "GET /api/orgunits parameters"},
            "changes": _obj(
                {
                    "validation_status": STRING,
                    "org_unit_type_id": INTEGER,
                    "opening_date": STRING,
                    "closed_date": STRING,
                    "add_group_ids": IDS,
                    "remove_group_ids": IDS,
                }
            ),
        },
        ["filters", "changes"],
    ),
    "VersionCopy": _obj({"version": _ref("Version"), "task": _ref("Task")}),
    "VersionDiff": _obj(
        {"before_version_id": INTEGER, "after_version_id": INTEGER}, ["before_version_id", "after_version_id"]
    ),
    "UploadRequest": _obj({"filename": STRING}, ["filename"]),
    "SubmissionUploadRequest": _obj(
        {
            "project_id": INTEGER,
            "instance_uuid": STRING,
            "form_id": INTEGER,
            "form_version": STRING,
            "org_unit_id": INTEGER,
            "period": STRING,
            "files": {
                "type": "array",
                "items": _obj({"name": STRING, "size": INTEGER, "content_type": STRING}, ["name", "size"]),
            },
        },
        ["project_id", "instance_uuid", "form_id", "form_version", "files"],
    ),
    "BulkUploadRequest": _obj({"project_id": INTEGER}, ["project_id"]),
    "BulkUploadStart": _obj({"project_id": INTEGER, "s3_key": STRING}, ["project_id", "s3_key"]),
    "SubmissionUploadUrls": _obj(
        {
            "instance_uuid": STRING,
            "expires_in": INTEGER,
            "files": {
                "type": "array",
                "items": _obj(
                    {
                        "name": STRING,
                        "key": STRING,
                        "max_bytes": INTEGER,
                        "url": STRING,
                        "fields": {"type": "object"},
                    }
                ),
            },
        }
    ),
    "Submission": _obj(
        {
            "id": INTEGER,
            "form_id": INTEGER,
            "form_version_id": INTEGER,
            "form_version": STRING,
            "project_id": INTEGER,
            "instance_uuid": STRING,
            "org_unit_id": INTEGER,
            "org_unit_name": STRING,
            "period": STRING,
            "validation_status": {"type": "string", "enum": ["PENDING", "APPROVED", "REJECTED"]},
            "review_comment": STRING,
            "device_id": STRING,
            "accuracy": {"type": "number"},
            "is_current": BOOLEAN,
            "started_at": TIMESTAMP,
            "ended_at": TIMESTAMP,
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "deleted_at": TIMESTAMP,
            "location": {"type": "object", "nullable": True},
            "answers": {"type": "object"},
            "attachments": {"type": "array", "items": {"type": "object"}},
            "versions": {"type": "array", "items": {"type": "object"}},
        }
    ),
    "SubmissionReview": _obj(
        {
            "validation_status": {"type": "string", "enum": ["PENDING", "APPROVED", "REJECTED"]},
            "comment": STRING,
        },
        ["validation_status"],
    ),
    "QuarantinedUpload": _obj(
        {"id": INTEGER, "s3_key": STRING, "size": INTEGER, "reason": STRING, "created_at": TIMESTAMP}
    ),
    "UploadUrl": _obj(
        {
            "url": STRING,
            "fields": {"type": "object"},
            "s3_key": STRING,
            "max_bytes": INTEGER,
            "expires_in": INTEGER,
        }
    ),
    "ImportRequest": _obj(
        {
            "s3_key": STRING,
            "format": {"type": "string", "enum": ["gpkg", "csv", "geojson"]},
            "data_source_id": INTEGER,
            "version_id": {"type": "integer", "description": "omit for a new version"},
            "options": _obj({"skip_invalid": BOOLEAN, "close_missing": BOOLEAN}),
            "dry_run": BOOLEAN,
        },
        ["s3_key", "format", "data_source_id"],
    ),
    "ExportRequest": _obj(
        {
            "what": {"type": "string", "enum": ["orgunits"]},
            "format": {"type": "string", "enum": ["csv", "xlsx", "geojson", "gpkg"]},
            "filters": {"type": "object", "description": "GET /api/orgunits parameters"},
        },
        ["what", "format"],
    ),
    "OrgUnitList": _obj({"results": {"type": "array", "items": _ref("OrgUnit")}}),
    "MobileOrgUnitPage": _obj(
        {
            "results": {
                "type": "array",
                "items": {"type": "object", "description": "a unit, or {id, deleted: true}"},
            },
            "next_cursor": {"type": "string", "nullable": True},
            "next_since": {"type": "string", "nullable": True, "description": "the since of the next sync"},
        }
    ),
    "Form": _obj(
        {
            "id": INTEGER,
            "name": STRING,
            "xform_id": {"type": "string", "nullable": True, "description": "set by the first version"},
            "period_type": {"type": "string", "nullable": True, "enum": list(PERIOD_TYPES)},
            "single_per_period": BOOLEAN,
            "project_ids": IDS,
            "org_unit_type_ids": IDS,
            "latest_version": {
                "type": "object",
                "nullable": True,
                "properties": {
                    "id": INTEGER,
                    "number": INTEGER,
                    "version": STRING,
                    "xform_md5": STRING,
                    "created_at": TIMESTAMP,
                },
            },
            "created_by": INTEGER,
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
        }
    ),
    "FormWrite": _obj(
        {
            "name": STRING,
            "project_ids": IDS,
            "org_unit_type_ids": IDS,
            "period_type": {"type": "string", "nullable": True, "enum": list(PERIOD_TYPES)},
            "single_per_period": BOOLEAN,
        }
    ),
    "FormPage": _page_of("Form"),
    "FormVersion": _obj(
        {
            "id": INTEGER,
            "form_id": INTEGER,
            "number": INTEGER,
            "version": {"type": "string", "description": "the XForm version (settings sheet, or yyyymmddNN)"},
            "xform_id": STRING,
            "xform_md5": STRING,
            "descriptor": {"type": "object", "description": "pyxform's JSON form (one version only)"},
            "xlsform_url": {
                "type": "string",
                "description": "presigned download of the XLSForm (one version only)",
            },
            "warnings": {"type": "array", "items": STRING, "description": "pyxform's, when created"},
            "created_by": INTEGER,
            "created_at": TIMESTAMP,
        }
    ),
    "FormVersionPage": _page_of("FormVersion"),
    "FormVersionUpload": _obj(
        {
            "s3_key": {
                "type": "string",
                "description": "from versions/upload-url; or send the file itself "
                "as the body with an .xlsx/.xls Content-Type",
            }
        },
        ["s3_key"],
    ),
    "MobileFormList": _obj(
        {
            "results": {
                "type": "array",
                "items": _obj(
                    {
                        "id": INTEGER,
                        "name": STRING,
                        "xform_id": STRING,
                        "form_version_id": INTEGER,
                        "number": INTEGER,
                        "version": STRING,
                        "md5": STRING,
                        "period_type": {"type": "string", "nullable": True},
                        "single_per_period": BOOLEAN,
                        "org_unit_type_ids": IDS,
                        "download_url": {"type": "string", "description": "presigned GET of the XForm"},
                        "expires_in": INTEGER,
                        "created_at": TIMESTAMP,
                    }
                ),
            }
        }
    ),
    "AuditEntry": _obj(
        {
            "id": INTEGER,
            "created_at": TIMESTAMP,
            "user_id": INTEGER,
            "user_email": STRING,
            "task_id": INTEGER,
            "source": STRING,
            "action": STRING,
            "before": {"type": "object"},
            "after": {"type": "object"},
        }
    ),
}


@dataclass(frozen=True)
class Op:
    summary: str
    tag: str
    request: str | None = None
    response: str | None = None
    status: int = 200
    authenticated: bool = True


OPERATIONS = {
    ("/api/health", "GET"): Op("Database and queue health; 503 when the database is down", "system",
                               response="Health", authenticated=False),
    ("/api/openapi.json", "GET"): Op("This document", "system", authenticated=False),
    ("/api/auth/login", "POST"): Op("Exchange email and password for a short-lived token", "auth",
                                    "Login", "Token", authenticated=False),
    ("/api/me", "GET"): Op("The caller, their account and permissions", "auth", response="Me"),
    ("/api/me/password", "POST"): Op("Change one's own password (ends other sessions)", "auth",
                                     "PasswordChange", status=204),
    ("/api/me/api-keys", "GET"): Op("The caller's API keys (never their secrets)", "auth",
                                    response="ApiKeyPage"),
    ("/api/me/api-keys", "POST"): Op("Create an API key; its secret is shown once", "auth",
                                     "ApiKeyCreate", "ApiKey", 201),
    ("/api/me/api-keys/{key_id}", "DELETE"): Op("Revoke an API key", "auth", response="ApiKey"),
    ("/api/account", "GET"): Op("The caller's account", "account", response="Account"),
    ("/api/account", "PATCH"): Op("Rename the account (admin)", "account", "AccountUpdate", "Account"),
    ("/api/projects", "GET"): Op("Projects of the account, paged", "account", response="ProjectPage"),
    ("/api/projects", "POST"): Op("Create a project (admin)", "account", "ProjectCreate", "Project", 201),
    ("/api/projects/{project_id}", "GET"): Op("One project", "account", response="Project"),
    ("/api/projects/{project_id}", "PATCH"): Op("Change a project (admin)", "account",
                                                "ProjectUpdate", "Project"),
    ("/api/projects/{project_id}", "DELETE"): Op("Delete a project (admin)", "account", status=204),
    ("/api/users", "GET"): Op("Users of the account with their profiles, paged (admin)", "account",
                              response="UserPage"),
    ("/api/users", "POST"): Op("Create a user and profile (admin)", "account", "UserCreate", "User", 201),
    ("/api/users/{user_id}", "GET"): Op("One user (admin, or oneself)", "account", response="User"),
    ("/api/users/{user_id}", "PATCH"): Op("Change a user's profile, role, projects, password (admin)",
                                          "account", "UserUpdate", "User"),
    ("/api/users/{user_id}", "DELETE"): Op("Deactivate a user; their tokens and keys stop working (admin)",
                                           "account", response="User"),
    ("/api/tasks", "GET"): Op("Tasks of the account, newest first (admins: all; others: their own); "
                              "filters status, kind, launcher", "tasks", response="TaskPage"),
    ("/api/tasks/demo", "POST"): Op("Launch demo.count (local stages only)", "tasks",
                                    "DemoTask", "Task", 201),
    ("/api/tasks/{task_id}", "GET"): Op("One task: status, progress, result, error, artifact links",
                                        "tasks", response="Task"),
    ("/api/tasks/{task_id}/kill", "POST"): Op("Ask a task to stop; it ends KILLED at its next progress "
                                              "report", "tasks", response="Task"),
    ("/api/tasks/{task_id}/relaunch", "POST"): Op("Run an ERRORED or KILLED task again, as a new task",
                                                  "tasks", response="Task", status=201),
    ("/api/tasks/{task_id}/logs", "GET"): Op("What the task logged, oldest first", "tasks",
                                             response="TaskLogPage"),
    ("/api/data-sources", "GET"): Op("Data sources of the account", "registry", response="DataSourcePage"),
    ("/api/data-sources", "POST"): Op("Create a data source with its first version", "registry",
                                      "DataSourceWrite", "DataSource", 201),
    ("/api/data-sources/{source_id}", "GET"): Op("One data source", "registry", response="DataSource"),
    ("/api/data-sources/{source_id}", "PATCH"): Op("Change a data source (name, read_only, default version)",
                                                   "registry", "DataSourceWrite", "DataSource"),
    ("/api/data-sources/{source_id}/versions", "GET"): Op("Versions of a data source", "registry",
                                                          response="VersionPage"),
    ("/api/data-sources/{source_id}/versions", "POST"): Op("Create an empty version", "registry",
                                                           "VersionWrite", "Version", 201),
    ("/api/versions/{version_id}/copy", "POST"): Op("A new version of the same source, filled by a task "
                                                    "with a copy of this one", "registry", "VersionWrite",
                                                    "VersionCopy", 201),
    ("/api/versions/diff", "POST"): Op("A task comparing two versions on source_ref; diff.json and diff.csv "
                                       "artifacts", "registry", "VersionDiff", "Task", 201),
    ("/api/versions/{version_id}", "GET"): Op("One version, with its unit count", "registry",
                                              response="Version"),
    ("/api/versions/{version_id}/make-default", "POST"): Op("Make this the account's default version",
                                                            "registry", response="Version"),
    ("/api/orgunit-types", "GET"): Op("Org-unit types", "registry", response="OrgUnitTypePage"),
    ("/api/orgunit-types", "POST"): Op("Create an org-unit type", "registry", "OrgUnitTypeWrite",
                                       "OrgUnitType", 201),
    ("/api/orgunit-types/{type_id}", "GET"): Op("One org-unit type", "registry", response="OrgUnitType"),
    ("/api/orgunit-types/{type_id}", "PATCH"): Op("Change an org-unit type and its allowed sub-types",
                                                  "registry", "OrgUnitTypeWrite", "OrgUnitType"),
    ("/api/orgunit-types/{type_id}", "DELETE"): Op("Delete an unused org-unit type", "registry", status=204),
    ("/api/groups", "GET"): Op("Groups (?version=)", "registry", response="GroupPage"),
    ("/api/groups", "POST"): Op("Create a group in a version", "registry", "GroupWrite", "Group", 201),
    ("/api/groups/{group_id}", "GET"): Op("One group", "registry", response="Group"),
    ("/api/groups/{group_id}", "PATCH"): Op("Rename a group", "registry", "GroupWrite", "Group"),
    ("/api/groups/{group_id}", "DELETE"): Op("Delete a group", "registry", status=204),
    ("/api/group-sets", "GET"): Op("Group sets", "registry", response="GroupSetPage"),
    ("/api/group-sets", "POST"): Op("Create a group set", "registry", "GroupSetWrite", "GroupSet", 201),
    ("/api/group-sets/{set_id}", "GET"): Op("One group set", "registry", response="GroupSet"),
    ("/api/group-sets/{set_id}", "PATCH"): Op("Change a group set", "registry", "GroupSetWrite", "GroupSet"),
    ("/api/group-sets/{set_id}", "DELETE"): Op("Delete a group set", "registry", status=204),
    ("/api/orgunits", "GET"): Op("Search and list org units (JSON, or GeoJSON with format=geojson)",
                                 "orgunits", response="OrgUnitPage"),
    ("/api/orgunits", "POST"): Op("Create an org unit", "orgunits", "OrgUnitWrite", "OrgUnit", 201),
    ("/api/orgunits/bulk-update", "POST"): Op("A task applying a change to every unit matching filters",
                                              "orgunits", "BulkUpdate", "Task", 201),
    ("/api/orgunits/locate", "GET"): Op("Units whose territory contains ?lat=&lon= (optional type, version)",
                                        "orgunits", response="OrgUnitList"),
    ("/api/mobile/orgunits", "GET"): Op("Mobile sync: VALID units changed since ?since= for ?project=, "
                                        "tombstones for removed ones", "mobile",
                                        response="MobileOrgUnitPage"),
    ("/api/mobile/submissions/upload-urls", "POST"): Op(
        "Presigned S3 POSTs for a submission's XML and attachments (size-capped, under "
        "submissions/{account}/{project}/{instance}/); ingestion follows the upload", "submissions",
        "SubmissionUploadRequest", "SubmissionUploadUrls", 201),
    ("/api/mobile/submissions/bulk-upload-url", "POST"): Op(
        "A presigned S3 POST for a bulk upload zip (Iaso's mobile layout: instances.json and a folder per "
        "instance)", "submissions", "BulkUploadRequest", "UploadUrl", 201),
    ("/api/mobile/submissions/bulk", "POST"): Op("Ingest an uploaded bulk zip as a task", "submissions",
                                                 "BulkUploadStart", "Task", 201),
    ("/api/submissions", "GET"): Op("Submissions (JSON, or GeoJSON with format=geojson)", "submissions",
                                    response="SubmissionPage"),
    ("/api/submissions/{submission_id}", "GET"): Op("One submission: answers, attachments as download links, "
                                                    "versions", "submissions", response="Submission"),
    ("/api/submissions/{submission_id}", "PATCH"): Op("Review: validation status and comment (audited)",
                                                      "submissions", "SubmissionReview", "Submission"),
    ("/api/submissions/{submission_id}", "DELETE"): Op("Soft-delete a submission", "submissions", status=204),
    ("/api/submissions/{submission_id}/restore", "POST"): Op("Restore a deleted submission", "submissions",
                                                             response="Submission"),
    ("/api/quarantined-uploads", "GET"): Op("Uploads that could not become submissions, with the reason",
                                            "submissions", response="QuarantinedUploadPage"),
    ("/api/forms", "GET"): Op("Forms of the account (?project=), with their latest version", "forms",
                              response="FormPage"),
    ("/api/forms", "POST"): Op("Create a form (form managers)", "forms", "FormWrite", "Form", 201),
    ("/api/forms/{form_id}", "GET"): Op("One form", "forms", response="Form"),
    ("/api/forms/{form_id}", "PATCH"): Op("Change a form's name, projects, org-unit types or period", "forms",
                                          "FormWrite", "Form"),
    ("/api/forms/{form_id}", "DELETE"): Op("Delete a form (soft: its versions stay for submissions)", "forms",
                                           status=204),
    ("/api/forms/{form_id}/versions/upload-url", "POST"): Op("A presigned S3 POST for a large XLSForm",
                                                             "forms", "UploadRequest", "UploadUrl", 201),
    ("/api/forms/{form_id}/versions", "GET"): Op("Versions of a form, by number", "forms",
                                                 response="FormVersionPage"),
    ("/api/forms/{form_id}/versions", "POST"): Op("Add a version from an XLSForm: the .xlsx/.xls as the body "
                                                  "(up to 4 MB) or JSON {s3_key} after an upload; invalid "
                                                  "XLSForms get 400 with pyxform's message, sheet and row",
                                                  "forms", "FormVersionUpload", "FormVersion", 201),
    ("/api/forms/{form_id}/versions/{number}", "GET"): Op("One version with pyxform's descriptor", "forms",
                                                          response="FormVersion"),
    ("/api/forms/{form_id}/versions/{number}/xform", "GET"): Op("The version's XForm (text/xml)", "forms"),
    ("/api/mobile/forms", "GET"): Op("The forms of ?project= with their latest versions, for its members",
                                     "mobile", response="MobileFormList"),
    ("/api/openrosa/{project_id}/formList", "GET"): Op("OpenRosa form list (text/xml) for ODK Collect and "
                                                       "Enketo; HTTP Basic (email and password or API key) "
                                                       "after a 401 challenge, or Bearer", "openrosa"),
    ("/api/openrosa/{project_id}/submission", "HEAD"): Op(
        "OpenRosa: 204 with X-OpenRosa-Accept-Content-Length (Collect asks before it submits)", "openrosa",
        status=204),
    ("/api/openrosa/{project_id}/submission", "POST"): Op(
        "OpenRosa submission: multipart xml_submission_file and attachments; 201 with an OpenRosaResponse, "
        "409 for the same instanceID with different XML", "openrosa", status=201),
    ("/api/openrosa/{project_id}/forms/{form_id}", "GET"): Op("OpenRosa form download: the XForm of the "
                                                              "form's latest version (text/xml)", "openrosa"),
    ("/api/imports/upload-url", "POST"): Op("A presigned S3 POST for an import file (size-capped, under the "
                                            "account's prefix)", "imports", "UploadRequest", "UploadUrl",
                                            201),
    ("/api/imports", "POST"): Op("Start an import task (GeoPackage in Iaso's layout) into a new or "
                                 "existing version; dry_run reports without writing", "imports",
                                 "ImportRequest", "Task", 201),
    ("/api/exports", "POST"): Op("Start an export task: org units matching filters as CSV, XLSX, GeoJSON or "
                                 "GeoPackage (Iaso's layout); the task ends with a download link", "imports",
                                 "ExportRequest", "Task", 201),
    ("/api/change-requests", "GET"): Op("Change requests (?status=new|approved|rejected, ?org_unit=)",
                                        "change requests", response="ChangeRequestPage"),
    ("/api/change-requests", "POST"): Op("Propose new values for a unit ({org_unit_id, proposed}) or a new "
                                         "unit ({new_unit})", "change requests", "ChangeRequestCreate",
                                         "ChangeRequest", 201),
    ("/api/change-requests/{request_id}", "GET"): Op("One change request", "change requests",
                                                     response="ChangeRequest"),
    ("/api/change-requests/{request_id}/approve", "POST"): Op("Apply the chosen proposed fields",
                                                              "change requests", "ChangeRequestApproval",
                                                              "ChangeRequest"),
    ("/api/change-requests/{request_id}/reject", "POST"): Op("Reject, with a reason", "change requests",
                                                             "ChangeRequestRejection", "ChangeRequest"),
    ("/api/orgunits/{unit_id}", "GET"): Op("One org unit with its ancestors", "orgunits", response="OrgUnit"),
    ("/api/orgunits/{unit_id}", "PATCH"): Op("Change an org unit; a new parent_id moves its whole subtree",
                                             "orgunits", "OrgUnitWrite", "OrgUnit"),
    ("/api/orgunits/{unit_id}", "DELETE"): Op("Delete an org unit without children", "orgunits", status=204),
    ("/api/orgunits/{unit_id}/history", "GET"): Op("The audit trail of an org unit", "orgunits",
                                                   response="AuditEntryPage"),
}  # fmt: skip

ERRORS = {
    "400": "Bad input; details name the field",
    "401": "Missing, expired or invalid credentials",
    "403": "The caller's role does not allow this",
    "404": "No such object in the caller's account",
    "409": "Conflicts with existing data",
}


PAGED = ("Project", "User", "ApiKey", "Task", "TaskLog", "DataSource", "Version", "OrgUnitType", "Group",
         "GroupSet", "OrgUnit", "AuditEntry", "ChangeRequest", "Submission", "QuarantinedUpload")  # fmt: skip

ORGUNIT_FILTERS = {
    "search": "name contains (or starts with, match=prefix) this text, ignoring case and accents",
    "match": "prefix or contains (default)",
    "refs": "comma-separated source refs", "codes": "comma-separated codes", "ids": "comma-separated ids",
    "type": "org-unit type ids", "parent": "direct children of this unit", "roots": "true: top-level units",
    "descendants_of": "every unit below this one", "validation_status": "NEW, VALID, REJECTED (comma list)",
    "group": "group ids", "version": "version id (default: the account's)",
    "bbox": "west,south,east,north", "has_geometry": "true or false",
    "open_at": "open on this date (YYYY-MM-DD)", "closed_at": "closed on or before this date",
    "fields": "comma-separated fields to return", "with_geometry": "true: include territories",
    "count": "true: include the total count", "format": "json or geojson",
}  # fmt: skip


QUERY_PARAMETERS = {
    ("/api/submissions", "GET"): {
        "form": "form id", "org_unit": "a unit: its submissions and its descendants'", "period": "period",
        "created_from": "received at or after (ISO 8601)", "created_to": "received before (ISO 8601)",
        "validation_status": "PENDING, APPROVED or REJECTED", "has_location": "true or false",
        "deleted": "true: the deleted ones", "format": "json or geojson",
    },  # fmt: skip
    ("/api/orgunits", "GET"): ORGUNIT_FILTERS,
    ("/api/orgunits/locate", "GET"): {"lat": "latitude", "lon": "longitude", "type": "type ids",
                                      "version": "version id (default: the account's)"},
    ("/api/mobile/orgunits", "GET"): {"project": "project id (required)",
                                      "since": "ISO 8601 time of the last sync (the previous next_since)"},
    ("/api/forms", "GET"): {"project": "project id"},
    ("/api/forms/{form_id}/versions", "POST"): {"filename": "the XLSForm's file name, for a body upload"},
    ("/api/mobile/forms", "GET"): {"project": "project id (required)"},
    ("/api/openrosa/{project_id}/formList", "GET"): {"formID": "only the form with this XForm id"},
    ("/api/tasks", "GET"): {"status": "QUEUED, RUNNING, SUCCESS, ERRORED or KILLED", "kind": "task kind",
                            "launcher": "user id"},
    ("/api/groups", "GET"): {"version": "version id"},
}  # fmt: skip


def _operation(path: str, method: str) -> dict:
    op = OPERATIONS[(path, method)]
    success = {"description": "Success"}
    if op.response:
        success["content"] = {"application/json": {"schema": _ref(op.response)}}
    errors = {code: _error_response(text) for code, text in ERRORS.items()}
    operation = {
        "summary": op.summary,
        "tags": [op.tag],
        "operationId": _operation_id(path, method),
        "responses": {str(op.status): success} | errors,
        "security": [{"bearer": []}] if op.authenticated else [],
    }
    parameters = [
        {"name": segment.strip("{}"), "in": "path", "required": True, "schema": STRING}
        for segment in path.split("/")
        if segment.startswith("{")
    ]
    if method == "GET" and op.response and op.response.endswith("Page"):
        parameters += [
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
            {"name": "cursor", "in": "query", "schema": STRING},
        ]
    parameters += [
        {"name": name, "in": "query", "description": text, "schema": STRING}
        for name, text in QUERY_PARAMETERS.get((path, method), {}).items()
    ]
    if parameters:
        operation["parameters"] = parameters
    if op.request:
        schema = {"application/json": {"schema": _ref(op.request)}}
        operation["requestBody"] = {"required": True, "content": schema}
    return operation


def _operation_id(path: str, method: str) -> str:
    words = path.removeprefix("/api/").replace("{", "").replace("}", "").replace("-", "_").replace(".", "_")
    return f"{method.lower()}_{words.replace('/', '_')}"


def _error_response(text: str) -> dict:
    return {"description": text, "content": {"application/json": {"schema": _ref("Error")}}}


@cache
def document() -> dict:
    paths: dict[str, dict] = {}
    for path, method in OPERATIONS:
        paths.setdefault(path, {})[method.lower()] = _operation(path, method)
    schemas = SCHEMAS | {f"{name}Page": _page_of(name) for name in PAGED}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "georegistry",
            "version": VERSION,
            "description": "Org-unit registry and field data collection. Errors are always "
            '{"error": {"code", "message", "details"}}. Authenticate with "Authorization: Bearer '
            '<token from /api/auth/login, or an API key>".',
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
