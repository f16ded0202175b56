"""OData `$filter` as ODK Central takes it on a form's Submissions feed, parsed into a small tree.

Central filters on the submission's own metadata only: `__id` and `__system/submissionDate`,
`updatedAt`, `submitterId`, `reviewState`, `deletedAt` (each also as `$root/Submissions/...`), with
`eq ne gt ge lt le`, `and or not`, parentheses, `null`, and the functions `year month day hour minute
second` (of a field) and `now()`. Anything else is refused with a 400 that says what and where, as
Central refuses it (it answers 501 for a field it does not filter on).

The tree: ("or"|"and", left, right), ("not", node), ("cmp", op, left, right); operands are
("field", name), ("literal", value) and ("call", function, operand | None). odata_sql compiles it.
"""

import datetime
import re

from chalicelib.platform import problems

FIELDS = {
    "__id": "text",
    "__system/submissionDate": "time",
    "__system/updatedAt": "time",
    "__system/submitterId": "text",
    "__system/reviewState": "text",
    "__system/deletedAt": "time",
}
COMPARISONS = ("eq", "ne", "gt", "ge", "lt", "le")
FUNCTIONS = ("year", "month", "day", "hour", "minute", "second")
MAX_LENGTH = 2000
MAX_NODES = 200
TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')"
    r"|(?P<datetime>\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})?)?)"
    r"|(?P<number>-?\d+(?:\.\d+)?)"
    r"|(?P<name>\$?[A-Za-z_][A-Za-z0-9_]*(?:/[A-Za-z_][A-Za-z0-9_]*)*)"
    r"|(?P<punct>[(),]))"
)


def parse(text: str | None):
    """The tree of a `$filter` value; None for none."""
    if text is None or not text.strip():
        return None
    if len(text) > MAX_LENGTH:
        raise _invalid(f"is longer than {MAX_LENGTH} characters")
    parser = _Parser(_tokens(text))
    tree = parser.expression()
    if parser.peek() is not None:
        raise _invalid(f"has {parser.peek()[1]!r} where the expression should end")
    return tree


def mentions(tree, name: str) -> bool:
    """Whether the tree names the field (Central shows deleted submissions only to a filter on
    `__system/deletedAt`)."""
    if tree is None:
        return False
    if tree[0] == "field":
        return tree[1] == name
    return any(isinstance(part, tuple) and mentions(part, name) for part in tree[1:])


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text):
        if not text[position:].strip():
            break
        match = TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise _invalid(f"cannot be read at character {position + 1}: {text[position : position + 20]!r}")
        kind = match.lastgroup
        tokens.append((kind, match[kind]))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens = tokens
        self.position = 0
        self.nodes = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise _invalid("ends too early")
        self.position += 1
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _invalid(f"has more than {MAX_NODES} parts")
        return token

    def keyword(self, *words: str) -> str | None:
        token = self.peek()
        if token and token[0] == "name" and token[1] in words:
            self.take()
            return token[1]
        return None

    def expect(self, punct: str) -> None:
        token = self.take()
        if token != ("punct", punct):
            raise _invalid(f"has {token[1]!r} where {punct!r} should be")

    def expression(self):
        node = self.conjunction()
        while self.keyword("or"):
            node = ("or", node, self.conjunction())
        return node

    def conjunction(self):
        node = self.negation()
        while self.keyword("and"):
            node = ("and", node, self.negation())
        return node

    def negation(self):
        if self.keyword("not"):
            return ("not", self.negation())
        if self.peek() == ("punct", "("):
            self.take()
            node = self.expression()
            self.expect(")")
            return node
        return self.comparison()

    def comparison(self):
        left = self.operand()
        operator = self.keyword(*COMPARISONS)
        if operator is None:
            found = self.peek()
            raise _invalid(f"needs a comparison ({', '.join(COMPARISONS)}) after {_shown(left)}, not "
                           f"{found[1] if found else 'the end'!r}")  # fmt: skip
        return ("cmp", operator, left, self.operand())

    def operand(self):
        kind, value = self.take()
        if kind == "string":
            return ("literal", value[1:-1].replace("''", "'"))
        if kind == "datetime":
            return ("literal", _moment(value))
        if kind == "number":
            return ("literal", float(value) if "." in value else int(value))
        if kind == "name" and value in ("null", "true", "false"):
            return ("literal", {"null": None, "true": True, "false": False}[value])
        if kind == "name" and self.peek() == ("punct", "("):
            return self.call(value)
        if kind == "name":
            name = value.removeprefix("$root/Submissions/")
            if name not in FIELDS:
                raise _invalid(f"names {value!r}; only {', '.join(FIELDS)} can be filtered on")
            return ("field", name)
        raise _invalid(f"has {value!r} where a field or a value should be")

    def call(self, function: str):
        self.take()  # (
        if function == "now":
            self.expect(")")
            return ("call", "now", None)
        if function not in FUNCTIONS:
            raise _invalid(f"calls {function!r}; the functions are {', '.join(FUNCTIONS)} and now")
        argument = self.operand()
        self.expect(")")
        return ("call", function, argument)


def _moment(text: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError as error:
        raise _invalid(f"has {text!r}, which is not a date or a timestamp") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def _shown(node) -> str:
    return repr(node[1]) if node[0] in ("field", "literal") else f"{node[1]}(…)"


def _invalid(reason: str) -> problems.Problem:
    return problems.invalid_parameter("$filter", reason)
