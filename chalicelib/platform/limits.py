"""Every budget an input is held to, in one place: what a client may send, what a file may hold, what
may be stored and returned. The README's "Limits" table lists them; an error that hits one names it
(`limit_message`).

The ceilings they protect: an API Lambda has 512 MB-1 GB and 30 s and returns at most 6 MB; a task
Lambda has 3 GB and 15 minutes; API Gateway takes a request of at most 10 MB.
"""

MIB = 1024 * 1024

# Responses
RESPONSE_MAX_BYTES = 6 * MIB  # Lambda's synchronous response limit
STORED_MESSAGE_MAX_CHARS = 2_000  # a task's error or progress message, a quarantine reason, a log line
PAGE_MAX_BYTES = 5 * MIB  # a list page in the gateway's envelope (which escapes it again); more: ask for less
TASK_PARAMS_MAX_BYTES = 64 * 1024  # a task's parameters as JSON, stored and shown with the task
TASK_RESULT_MAX_BYTES = 16 * 1024  # what a task returns, as JSON; files go in artifacts

# JSON request bodies and values read back from JSON
JSON_MAX_DEPTH = 32  # our bodies nest 3 deep; a cursor 1
EXTRA_FIELDS_MAX_BYTES = 64 * 1024  # an org unit's extra_fields, as JSON
ALIASES_MAX_COUNT = 100  # an org unit's aliases (each at most 200 characters)

# Submissions (XForm instance XML)
XML_MAX_DEPTH = 64  # groups and repeats of real forms nest a handful deep
XML_MAX_ELEMENTS = 100_000
ANSWERS_MAX_BYTES = 2 * MIB  # a submission's answers as JSON (entities may expand the XML)

# XLSForms
XLSFORM_MAX_UNCOMPRESSED_BYTES = 64 * MIB  # the sum of an .xlsx's members (a zip)
XLSFORM_MAX_ROWS = 50_000  # rows of one sheet (choices lists are the long ones)
XLSFORM_MAX_SECONDS = 20  # converting one XLSForm, inside a request of 30 s

# Form media (the images, audio, video and CSV files an XForm references)
FORM_MEDIA_BODY_MAX_BYTES = 4 * MIB  # in a request body (base64 through API Gateway, 6 MB into Lambda)
FORM_MEDIA_MAX_BYTES = 100 * MIB  # through a presigned upload; phones download it straight from S3

# Submission attachments sent one by one (ODK Central's API, as pyodk uploads them)
SUBMISSION_FILE_BODY_MAX_BYTES = 4 * MIB  # in a request body: base64 through API Gateway, 6 MB into Lambda

# Imported files
GPKG_MAX_BLOB_BYTES = 64 * MIB  # one geometry or attribute value of a GeoPackage row
GPKG_MAX_STATEMENT_SECONDS = 120  # one SQLite statement over the file (a view may never end)
CSV_MAX_HEADER_BYTES = 1 * MIB
GEOJSON_MAX_DEPTH = 32  # a MultiPolygon's coordinates nest 4 deep inside 4 of the file
GPKG_MAX_FEATURES = 20_000_000  # its layers' rows (a view makes any number); more would outlast a task
IMPORT_READER_MAX_BYTES = 1024 * MIB  # what the reading process may add to what it inherits (3 GB Lambda)
IMPORT_TEXT_MAX_BYTES = 1_000  # a unit's ref, name, code, type or group ref (UTF-8); an index row takes 2,700

# Login
LOGIN_FAILURES_PER_MINUTE = 5  # per account and per address; then 429 with Retry-After


def limit_message(what: str, name: str, unit: str = "") -> str:
    """`the XML's nesting exceeds the limit of 64 levels (XML_MAX_DEPTH)`: the wording of every error
    that hits a budget, naming it so that a client or an operator can find it here and in the README."""
    value = globals()[name]
    return f"{what} exceeds the limit of {value:,}{' ' + unit if unit else ''} ({name})"
