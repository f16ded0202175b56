"""Form versions: an XLSForm in, an XForm out, both kept in the forms bucket.

A version comes either in the request body (small files) or from a presigned upload into the forms
bucket (`upload_url`, then `add_from_upload` with its key). Either way the workbook is converted
before anything is written, so an invalid XLSForm stores nothing, and outside any transaction (the
caller opens none: these functions open their own, short ones). Versions of a form are numbered
1, 2, 3 while its row is locked. The XForm `version` is the settings sheet's, or one generated as
yyyymmddNN (Iaso's scheme); it must be new for the form. The XForm id (settings `form_id`, else the
form's current id, else the file name as pyxform would take it) is set on the form by its first
version; later versions must keep it, since submissions name their form by it.

Keys: `forms/{account_id}/{form_id}/uploads/{uuid}/{file}` for uploads,
`forms/{account_id}/{form_id}/versions/{number}/{file}` for what a version keeps.
"""

import datetime
import pathlib
import uuid as uuids
from collections.abc import Callable

from botocore.exceptions import ClientError

from chalicelib.forms import form_media, form_rules, forms_sql, xlsforms
from chalicelib.identity.permissions import Principal
from chalicelib.platform import aws, config, db, problems
from chalicelib.platform.filenames import safe_filename
from chalicelib.registry import audit

# A direct body passes API Gateway base64-encoded, and Lambda takes at most 6 MB of request payload.
MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
UPLOAD_URL_SECONDS = 3600
DOWNLOAD_URL_SECONDS = 3600
XML = "text/xml; charset=utf-8"
XLSFORM_CONTENT_TYPES = {suffix: content_type for content_type, suffix in xlsforms.CONTENT_TYPES.items()}


def upload_url(cur, principal: Principal, form_id: int, filename: str) -> dict:
    """A presigned POST for one XLSForm under the form's upload prefix, size-capped."""
    form_rules.writable_form(cur, principal, form_id)
    key = f"{_prefix(principal, form_id)}uploads/{uuids.uuid4()}/{safe_filename(filename)}"
    post = aws.client("s3").generate_presigned_post(
        Bucket=_bucket(),
        Key=key,
        Conditions=[["content-length-range", 1, MAX_UPLOAD_BYTES]],
        ExpiresIn=UPLOAD_URL_SECONDS,
    )
    return {"url": post["url"], "fields": post["fields"], "s3_key": key, "max_bytes": MAX_UPLOAD_BYTES,
            "expires_in": UPLOAD_URL_SECONDS}  # fmt: skip


def add_from_body(principal: Principal, form_id: int, content: bytes, filename: str | None) -> dict:
    def checked() -> bytes:
        if len(content) > MAX_BODY_BYTES:
            raise problems.Problem(
                413,
                "form_version.too_large",
                f"An XLSForm in the request body may have at most {MAX_BODY_BYTES} bytes; "
                "upload bigger ones through POST /api/forms/{id}/versions/upload-url.",
                {"max_bytes": MAX_BODY_BYTES, "size": len(content)},
            )
        return content

    return _add(principal, form_id, checked, filename)


def add_from_upload(principal: Principal, form_id: int, s3_key: str) -> dict:
    """The XLSForm uploaded at `s3_key`; the upload is removed once the version is committed."""

    def uploaded() -> bytes:
        if not s3_key.startswith(f"{_prefix(principal, form_id)}uploads/"):
            raise problems.invalid_field(
                "s3_key", "must be a key returned by this form's versions/upload-url"
            )
        return _uploaded(s3_key)

    return _add(principal, form_id, uploaded, s3_key.rsplit("/", 1)[-1], upload_key=s3_key)


def _uploaded(key: str) -> bytes:
    s3 = aws.client("s3")
    try:
        size = s3.head_object(Bucket=_bucket(), Key=key)["ContentLength"]
    except ClientError as error:
        if error.response["Error"]["Code"] in ("404", "NoSuchKey"):
            raise problems.invalid_field("s3_key", "names no uploaded file: upload it first") from error
        raise
    if size > MAX_UPLOAD_BYTES:  # S3 enforces the policy's range; moto and old URLs may not
        raise problems.invalid_field("s3_key", f"names a file over {MAX_UPLOAD_BYTES} bytes")
    return s3.get_object(Bucket=_bucket(), Key=key)["Body"].read()


def _add(principal: Principal, form_id: int, load: Callable[[], bytes], filename: str | None,
         upload_key: str | None = None) -> dict:  # fmt: skip
    """Three steps, so that no transaction stays open while the workbook is fetched and converted
    (seconds of it would leave the connection idle in transaction): a look at the form, the
    conversion, then the version written with the form locked and the checks made again."""
    with db.transaction() as cur:
        form = form_rules.writable_form(cur, principal, form_id)
        taken = forms_sql.version_strings(cur, principal.account_id, form_id)
    content = load()
    today = datetime.datetime.now(datetime.UTC).date()
    fallback_id = form["xform_id"] or _stem(filename)
    converted = xlsforms.convert(
        content, fallback_id, lambda book: _checked(form["xform_id"], taken, book, today)
    )
    with db.transaction() as cur:
        created = _store(cur, principal, form_id, content, filename, converted)
        if upload_key:
            db.after_commit(lambda: aws.client("s3").delete_object(Bucket=_bucket(), Key=upload_key))
    return created


def _store(cur, principal: Principal, form_id: int, content: bytes, filename: str | None,
           converted: xlsforms.Converted) -> dict:  # fmt: skip
    form = forms_sql.lock_form(cur, principal.account_id, form_id)
    if form is None:  # deleted while its XLSForm was converted
        raise problems.not_found("form", form_id)
    _same_xform_id(form["xform_id"], converted.xform_id)  # another version may have come meanwhile
    _new_version(forms_sql.version_strings(cur, principal.account_id, form_id), converted.version)
    version, xform = converted.version, converted.xform
    if not form["xform_id"]:
        forms_sql.set_xform_id(cur, principal.account_id, form_id, converted.xform_id)  # unique per account
    number = forms_sql.next_number(cur, principal.account_id, form_id)
    base = f"{_prefix(principal, form_id)}versions/{number}/"
    row = {
        "number": number,
        "version": version,
        "xlsform_key": f"{base}{safe_filename(_stem(filename) or 'xlsform')}{converted.file_type}",
        "xform_key": f"{base}xform.xml",
        "xform_md5": xform.md5,
        "descriptor": xform.descriptor,
        "created_by": principal.user_id,
    }
    version_id = forms_sql.insert_version(cur, principal.account_id, form_id, row)
    form_media.create_expected(cur, principal.account_id, form_id, {"id": version_id, "number": number},
                               xform.xml)  # fmt: skip
    s3 = aws.client("s3")
    s3.put_object(Bucket=_bucket(), Key=row["xlsform_key"], Body=content,
                  ContentType=XLSFORM_CONTENT_TYPES[converted.file_type])  # fmt: skip
    s3.put_object(Bucket=_bucket(), Key=row["xform_key"], Body=xform.xml, ContentType=XML)
    audit.record(cur, principal.account_id, principal.user_id, "api", "form", form_id, "add_version", None,
                 {"number": number, "version": version, "xform_id": converted.xform_id})  # fmt: skip
    created = forms_sql.version_by_number(cur, principal.account_id, form_id, number)
    media = form_media.list_media(cur, principal, form_id, number)
    return present(created, with_descriptor=False) | {"warnings": xform.warnings, "media": media["results"]}


def _checked(xform_id: str | None, taken: set[str], workbook: xlsforms.Workbook, today: datetime.date) -> str:
    """The version `workbook` gets, once its XForm id is found to be the form's (runs in the child)."""
    _same_xform_id(xform_id, workbook.xform_id)
    if workbook.version is None:
        return generated_version(taken, today)
    return _new_version(taken, workbook.version)


def _same_xform_id(xform_id: str | None, in_file: str) -> None:
    if xform_id and in_file != xform_id:
        raise problems.conflict(
            "form_version.xform_id_changed",
            f"This form's XForm id is '{xform_id}' but the XLSForm's form_id is "
            f"'{in_file}': submissions name their form by this id, so it cannot change. "
            "Fix form_id in the settings sheet, or create a new form.",
            xform_id=xform_id,
            form_id_in_file=in_file,
        )


def _new_version(taken: set[str], version: str) -> str:
    if version in taken:
        raise problems.conflict(
            "form_version.version_exists",
            f"This form already has a version '{version}': change the version in the settings "
            "sheet (or leave it empty to have one generated).",
            version=version,
        )
    return version


def generated_version(taken: set[str], today: datetime.date) -> str:
    """yyyymmddNN with the first NN from 01 that the form has not used."""
    revision = 1
    while f"{today:%Y%m%d}{revision:02d}" in taken:
        revision += 1
    return f"{today:%Y%m%d}{revision:02d}"


def list_versions(cur, principal: Principal, form_id: int, after: int | None, limit: int) -> list[dict]:
    form_rules.get_form(cur, principal, form_id)
    found = forms_sql.list_versions(cur, principal.account_id, form_id, after, limit)
    return [present(row, with_descriptor=False) for row in found]


def get_version(cur, principal: Principal, form_id: int, number: int) -> dict:
    version = present(_version_row(cur, principal, form_id, number), with_descriptor=True)
    return version | {
        "xlsform_url": _download_url(version.pop("xlsform_key")),
        "expires_in": DOWNLOAD_URL_SECONDS,
    }


def xform_xml(cur, principal: Principal, form_id: int, number: int) -> bytes:
    return _object(_version_row(cur, principal, form_id, number)["xform_key"])


def _version_row(cur, principal: Principal, form_id: int, number: int) -> dict:
    form_rules.get_form(cur, principal, form_id)
    row = forms_sql.version_by_number(cur, principal.account_id, form_id, number)
    if row is None:
        raise problems.not_found("form_version", number)
    return row


def present(row: dict, with_descriptor: bool) -> dict:
    hidden = {"xform_key"} | (set() if with_descriptor else {"descriptor", "xlsform_key"})
    return {k: v for k, v in row.items() if k not in hidden}


# What phones download


def mobile_forms(cur, principal: Principal, project_id: int) -> list[dict]:
    """The project's forms, each with its latest version and a presigned link to its XForm."""
    return [
        {
            "id": form["id"],
            "name": form["name"],
            "xform_id": form["xform_id"],
            "form_version_id": form["form_version_id"],
            "number": form["number"],
            "version": form["version"],
            "md5": form["xform_md5"],
            "period_type": form["period_type"],
            "single_per_period": form["single_per_period"],
            "org_unit_type_ids": form["org_unit_type_ids"],
            "created_at": form["created_at"],
            "download_url": _download_url(form["xform_key"]),
            "expires_in": DOWNLOAD_URL_SECONDS,
        }
        for form in form_rules.project_forms(cur, principal, project_id)
    ]


def project_form_xml(cur, principal: Principal, project_id: int, form_id: int) -> bytes:
    """The XForm of the form's latest version, for a phone of the project."""
    found = form_rules.project_forms(cur, principal, project_id, form_id=form_id)
    if not found:
        raise problems.not_found("form", form_id)
    return _object(found[0]["xform_key"])


def _object(key: str) -> bytes:
    return aws.client("s3").get_object(Bucket=_bucket(), Key=key)["Body"].read()


def _download_url(key: str) -> str:
    return aws.client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": _bucket(), "Key": key}, ExpiresIn=DOWNLOAD_URL_SECONDS
    )


def _bucket() -> str:
    return config.settings().forms_bucket


def _prefix(principal: Principal, form_id: int) -> str:
    return f"forms/{principal.account_id}/{form_id}/"


def _stem(filename: str | None) -> str | None:
    return pathlib.PurePosixPath(filename).stem if filename else None
