"""form_media: the files each form version expects, and what was uploaded for them."""

from chalicelib.platform.db import all_rows, one

MEDIA_COLUMNS = """
    m.id, m.form_version_id, m.filename, m.media_type, m.s3_key, m.md5, m.size, m.content_type,
    m.uploaded_by, m.uploaded_at
"""
# The version before `form_version_id` lends its uploads to the names both expect (ODK Central does the same).
INSERT_EXPECTED = """
INSERT INTO form_media (account_id, form_version_id, filename, media_type, s3_key, md5, size, content_type,
                        uploaded_by, uploaded_at)
SELECT %(account_id)s, %(form_version_id)s, e.filename, e.media_type,
       p.s3_key, p.md5, p.size, p.content_type, p.uploaded_by, p.uploaded_at
FROM unnest(%(filenames)s::text[], %(media_types)s::text[]) WITH ORDINALITY AS e (filename, media_type, n)
LEFT JOIN form_media p ON p.account_id = %(account_id)s AND p.form_version_id = %(previous_id)s
                      AND p.filename = e.filename AND p.media_type = e.media_type
ORDER BY e.n
"""
LIST_MEDIA = f"""
SELECT {MEDIA_COLUMNS} FROM form_media m
WHERE m.account_id = %(account_id)s AND m.form_version_id = %(form_version_id)s
ORDER BY m.id
"""
GET_BY_NAME = f"""
SELECT {MEDIA_COLUMNS} FROM form_media m
WHERE m.account_id = %(account_id)s AND m.form_version_id = %(form_version_id)s AND m.filename = %(filename)s
"""
# A file of any version of the form: a phone may fetch it just as a newer version comes out.
GET_OF_FORM = f"""
SELECT {MEDIA_COLUMNS} FROM form_media m
JOIN form_versions v ON v.id = m.form_version_id AND v.account_id = m.account_id
WHERE m.account_id = %(account_id)s AND m.id = %(id)s AND v.form_id = %(form_id)s
"""
SET_UPLOADED = f"""
UPDATE form_media m SET s3_key = %(s3_key)s, md5 = %(md5)s, size = %(size)s, content_type = %(content_type)s,
    uploaded_by = %(uploaded_by)s, uploaded_at = now()
WHERE m.account_id = %(account_id)s AND m.id = %(id)s
RETURNING {MEDIA_COLUMNS}
"""
PREVIOUS_VERSION = """
SELECT id FROM form_versions
WHERE account_id = %(account_id)s AND form_id = %(form_id)s AND number < %(number)s
ORDER BY number DESC LIMIT 1
"""


def insert_expected(cur, account_id: int, form_version_id: int, previous_id: int | None,
                    expected: list[tuple[str, str]]) -> None:  # fmt: skip
    """One row per (filename, media_type), carrying the previous version's upload of the same file."""
    params = {
        "account_id": account_id,
        "form_version_id": form_version_id,
        "previous_id": previous_id,
        "filenames": [filename for filename, _ in expected],
        "media_types": [media_type for _, media_type in expected],
    }
    cur.execute(INSERT_EXPECTED, params)


def previous_version_id(cur, account_id: int, form_id: int, number: int) -> int | None:
    row = one(cur, PREVIOUS_VERSION, {"account_id": account_id, "form_id": form_id, "number": number})
    return row["id"] if row else None


def list_media(cur, account_id: int, form_version_id: int) -> list[dict]:
    return all_rows(cur, LIST_MEDIA, {"account_id": account_id, "form_version_id": form_version_id})


def media_by_name(cur, account_id: int, form_version_id: int, filename: str) -> dict | None:
    params = {"account_id": account_id, "form_version_id": form_version_id, "filename": filename}
    return one(cur, GET_BY_NAME, params)


def media_of_form(cur, account_id: int, form_id: int, media_id: int) -> dict | None:
    return one(cur, GET_OF_FORM, {"account_id": account_id, "form_id": form_id, "id": media_id})


def set_uploaded(cur, account_id: int, media_id: int, upload: dict) -> dict:
    """`upload`: s3_key, md5, size, content_type, uploaded_by."""
    return one(cur, SET_UPLOADED, upload | {"account_id": account_id, "id": media_id})
