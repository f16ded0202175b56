"""ruff is part of the suite, so CI refuses unlinted code; and the database boundary is checked here."""

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUFF = Path(sys.executable).with_name("ruff")


def test_ruff_check_passes():
    result = subprocess.run([str(RUFF), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_ruff_format_is_applied():
    result = subprocess.run([str(RUFF), "format", "--check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


MAX_MODULE_LINES = 400
PACKAGE = ROOT / "chalicelib"


def _modules() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if path.name != "__init__.py")


def test_no_module_is_over_400_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in _modules()
        if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def _shared_names(paths: list[Path]) -> dict[str, list[str]]:
    by_name: dict[str, list[str]] = {}
    for path in paths:
        by_name.setdefault(path.stem, []).append(str(path.relative_to(ROOT)))
    return {name: found for name, found in by_name.items() if len(found) > 1}


# pytest's conftest.py and packages' __init__.py are named by convention, not by what they hold.
CONVENTIONAL = {"__init__.py", "conftest.py"}
CONSOLE_CODE = ("console/src", "console/e2e")


def _python_everywhere() -> list[Path]:
    folders = ("chalicelib", "devstack", "bench", "tests")
    found = [path for folder in folders for path in (ROOT / folder).rglob("*.py")]
    return [path for path in found if path.name not in CONVENTIONAL and "__pycache__" not in path.parts]


def _console_modules() -> list[Path]:
    return sorted(
        path
        for folder in CONSOLE_CODE
        for path in (ROOT / folder).rglob("*")
        if path.suffix in {".js", ".jsx", ".mjs"}
    )


def test_no_two_modules_share_a_name():
    assert _shared_names(_modules()) == {}
    assert _shared_names(_python_everywhere()) == {}  # tests, bench and devstack too
    assert _shared_names(_console_modules()) == {}


def test_no_console_module_is_over_400_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in _console_modules()
        if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


# One database boundary: the driver is imported by platform/db.py alone, and SQL text lives in the
# packages' SQL modules (named *_sql.py), in db.py and in migrate.py; the rest calls them.
DRIVER_MODULE = "chalicelib/platform/db.py"
MAY_HOLD_SQL = {"chalicelib/platform/db.py", "chalicelib/platform/migrate.py"}

# Keywords in capitals, as this code base writes SQL: prose saying "select … from" is no statement.
SQL_TEXT = re.compile(
    r"""
    \bSELECT\b[\s\S]*\bFROM\b
    | \bINSERT\s+INTO\b
    | \bUPDATE\s+[\w".]+(\s+\w+)?\s+SET\b
    | \bDELETE\s+FROM\b
    | \b(CREATE|ALTER|DROP)\s+((TEMP|TEMPORARY|UNLOGGED|UNIQUE)\s+)?(TABLE|INDEX)\b
    | \bSAVEPOINT\s+\w
    | \bSET\s+LOCAL\b
    | \bCOPY\b[\s\S]*\b(FROM|TO)\b
    | \bPRAGMA\s+\w
    | \b(set_config|current_setting)\s*\(
    | %\(\w+\)s
    """,
    re.VERBOSE,
)


def _parsed_modules() -> list[tuple[str, ast.Module]]:
    return [
        (path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(), filename=str(path)))
        for path in sorted(PACKAGE.rglob("*.py"))
    ]


def _docstrings(tree: ast.Module) -> set[int]:
    nodes = [
        tree,
        *(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)),
    ]
    return {
        id(node.body[0].value)
        for node in nodes
        if node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
        and isinstance(node.body[0].value.value, str)
    }


def _texts(tree: ast.Module) -> list[tuple[int, str]]:
    """Every string literal but docstrings, f-strings with each {…} read as a name."""
    docstrings, found, inside_fstrings = _docstrings(tree), [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = [v.value if isinstance(v, ast.Constant) else "x" for v in node.values]
            found.append((node.lineno, "".join(parts)))
            inside_fstrings |= {id(v) for v in node.values}
    skipped = docstrings | inside_fstrings
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skipped:
            found.append((node.lineno, node.value))
    return found


def sql_in(tree: ast.Module | str) -> list[str]:
    """Where the module (or source text) holds SQL text, as `line: text`."""
    tree = ast.parse(tree) if isinstance(tree, str) else tree
    return [f"{line}: {text.strip()[:80]!r}" for line, text in _texts(tree) if SQL_TEXT.search(text)]


def test_only_db_imports_the_driver():
    importers = []
    for name, tree in _parsed_modules():
        for node in ast.walk(tree):
            modules = (
                [alias.name for alias in node.names] if isinstance(node, ast.Import)
                else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            )  # fmt: skip
            if name != DRIVER_MODULE and any(m == "psycopg2" or m.startswith("psycopg2.") for m in modules):
                importers.append(f"{name}:{node.lineno}")
    assert importers == [], "psycopg2 is imported outside platform/db.py (use what db.py exports)"


def test_sql_text_lives_in_sql_modules():
    leaks = [
        f"{name}:{found}"
        for name, tree in _parsed_modules()
        if not name.endswith("_sql.py") and name not in MAY_HOLD_SQL
        for found in sql_in(tree)
    ]
    listed = "\n".join(leaks)
    assert leaks == [], f"SQL text outside the SQL modules (move it to the package's *_sql.py):\n{listed}"


def test_the_sql_detector_finds_statements_and_not_prose():
    leaks = [
        'cur.execute("SAVEPOINT new_version")',
        'cur.execute("ROLLBACK TO SAVEPOINT bulk_entry")',
        "cur.execute(\"SET LOCAL lock_timeout = '3s'\")",
        "cur.execute(\"SELECT set_config('lock_timeout', %(value)s, true)\", {})",
        "db.one(cur, \"SELECT current_setting('lock_timeout') AS value\")",
        "cur.execute(\"SELECT current_setting('server_version') AS server, postgis_lib_version() AS v\")",
        'cur.execute("CREATE TEMP TABLE moved_paths (id bigint) ON COMMIT DROP")',
        'cur.execute("UPDATE org_units ou SET path = m.path FROM moved_paths m WHERE ou.id = m.id")',
        'cur.execute(f"UPDATE {table} u SET uuid = gen_random_uuid()")',
        'cur.execute(f"ALTER TABLE {table} ALTER COLUMN path SET STATISTICS 1000")',
        'cur.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {table} USING gin (name)")',
        'cur.copy_expert(f"COPY {table} ({columns}) FROM STDIN", stream)',
        'query.where("ou.parent_id = %(parent)s", parent=1)',
        'query.where(f"ou.{column} = ANY(%({name})s)")',
        'alternatives = " OR ".join(f"ou.path LIKE %(scope_{i})s" for i in range(3))',
        'query.where("EXISTS (SELECT 1 FROM org_unit_groups m WHERE m.group_id = ANY(%(groups)s))")',
        "connection.execute(f'PRAGMA table_info(\"{name}\")')",
        "connection.execute('SELECT ref, name FROM \"groups\"')",
    ]
    for leak in leaks:
        assert sql_in(leak), leak
    prose = [
        '"""Reads the units: SELECT … FROM org_units, then INSERT INTO the copy; SAVEPOINT x first."""',
        'def f():\n    """UPDATE org_units SET name: see units_sql."""',
        'class C:\n    """DELETE FROM tasks happens in the sweeper."""',
        'message = "Select a file from the list, then update its settings."',
        'raise ValueError(f"{name} is not a column; copy it to the table first")',
        "# SELECT x FROM y in a comment\nvalue = 1",
    ]
    for text in prose:
        assert not sql_in(text), text


# A table, index or constraint named by an f-string placeholder (PostgreSQL's; SQLite's are quoted).
NAMED_BY_FSTRING = re.compile(
    r"\b(TABLE|INDEX|INTO|PARTITION|ANALYZE|COPY|UPDATE|OF|REFERENCES|CONSTRAINT|LIKE)\s+"
    r"((IF\s+NOT\s+EXISTS|IF\s+EXISTS|ONLY)\s+)?\{\}"
)


def _names_by_fstring(tree: ast.Module) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
            if NAMED_BY_FSTRING.search(text):
                found.append(f"{node.lineno}: {text.strip()[:80]!r}")
    return found


def test_sql_names_tables_with_identifiers():
    assert _names_by_fstring(ast.parse('sql = f"CREATE INDEX IF NOT EXISTS {index} ON {table} (name)"'))
    assert _names_by_fstring(
        ast.parse('sql = f"ALTER TABLE org_units ATTACH PARTITION {table} FOR VALUES IN (1)"')
    )
    assert not _names_by_fstring(ast.parse('sql = f"SELECT {COLUMNS} {FROM} WHERE {where}"'))
    found = [f"{name}:{where}" for name, tree in _parsed_modules() for where in _names_by_fstring(tree)]
    assert found == [], "compose these names with db.composed (psycopg2.sql.Identifier), not f-strings"


LAYERS = [
    "platform",
    "identity",
    "tasks",
    "registry",
    "imports",
    "exports",
    "forms",
    "submissions",
    "dhis2",
    "handlers",
]


def _imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        names += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
        found |= {
            name.split(".")[1] for name in names if name.startswith("chalicelib.") and name.count(".") >= 1
        }
    return found


def test_imports_point_down_the_layers():
    upward = []
    for path in _modules():
        package = path.relative_to(PACKAGE).parts[0]
        if package not in LAYERS:
            continue
        above = {imported for imported in _imported_packages(path) if imported in LAYERS}
        upward += [
            f"{path.relative_to(ROOT)} imports {p}" for p in above if LAYERS.index(p) > LAYERS.index(package)
        ]
    assert upward == []


def test_only_handlers_import_chalice():
    importers = [
        str(path.relative_to(ROOT))
        for path in _modules()
        if "chalice" in {name.split(".")[0] for name in _all_imports(path)} and path.parent.name != "handlers"
    ]
    assert importers == []


def _all_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def _late_constants(path: Path) -> list[str]:
    """UPPER_CASE constants after the first def or class that could stand at the top (their value names
    nothing defined later). SQL modules keep each statement beside the function that runs it."""
    body = ast.parse(path.read_text()).body
    defined = {node.name for node in body if isinstance(node, ast.FunctionDef | ast.ClassDef)}
    late, seen_definition, assigned = [], False, set()
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            seen_definition = True
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [target.id for target in targets if isinstance(target, ast.Name)]
            used = (
                {name.id for name in ast.walk(node.value) if isinstance(name, ast.Name)}
                if node.value
                else set()
            )
            if (
                seen_definition
                and any(n.lstrip("_").isupper() for n in names)
                and not used & (defined | assigned)
            ):
                late += [f"{path.relative_to(ROOT)}:{node.lineno} {', '.join(names)}"]
            assigned |= set(names)
    return late


def test_constants_stand_at_the_top_of_their_module():
    late = [
        entry for path in _modules() if not path.name.endswith("_sql.py") for entry in _late_constants(path)
    ]
    assert late == []
