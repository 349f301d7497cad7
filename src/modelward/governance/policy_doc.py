"""Policy documents: YAML in, a validated ``PolicySpec`` out, every rule compiled.

A policy is saved once and evaluated on every alias move, so everything that can be wrong
with it (bad YAML, unknown keys, a CEL syntax error, a misspelt evidence root) is refused
at save time with the line and column of the offending text in the YAML file.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from modelward.errors import InvalidInput
from modelward.validation import Name

MAX_DOCUMENT_BYTES = 256 * 1024
MAX_RULES = 200
MAX_EXPR = 4000
MAX_MESSAGE = 1000

RiskTier = Literal["low", "medium", "high", "critical"]

# The top-level keys of the evidence context; anything else at the root is a typo.
CONTEXT_ROOTS = (
    "now",
    "version",
    "target",
    "system",
    "evaluations",
    "explainability",
    "card",
    "approvals",
    "monitoring",
    "policy",
)
# Macros that bind a variable: ``list.all(x, ...)``, ``map.exists(k, v, ...)``.
BINDING_MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})
TWO_VARIABLE_MACROS = frozenset({"all", "exists", "exists_one"})
KEYWORDS = frozenset({"true", "false", "null", "in"})
# Type names are identifiers in CEL (``type(x) == double``) but never evidence.
TYPE_NAMES = frozenset(
    {"int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type", "dyn"}
)


# --- expression scanning -------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>//[^\n]*)
  | (?P<string>(?:[rR][bB]?|[bB][rR]?)?(?:'''[\s\S]*?'''|\"\"\"[\s\S]*?\"\"\"
        |'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"))
  | (?P<number>0[xX][0-9a-fA-F]+[uU]?|\d+\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\d+[uU]?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    kind: str  # string | number | ident | punct
    text: str
    offset: int


def tokenize(expr: str) -> list[Token]:
    """CEL tokens without whitespace and comments; quotes are respected so text inside a
    string literal is never mistaken for an identifier."""
    out: list[Token] = []
    for m in _TOKEN.finditer(expr):
        kind = m.lastgroup or "punct"
        if kind not in ("space", "comment"):
            out.append(Token(kind, m.group(), m.start()))
    return out


def string_value(token: Token) -> str | None:
    """The value of a simple string literal, or None when escapes or prefixes make it hard."""
    text = token.text
    if text[0] not in "'\"" or "\\" in text or text.startswith(("'''", '"""')):
        return None
    return text[1:-1]


@dataclass
class ExpressionNames:
    roots: list[tuple[str, int]] = field(default_factory=list)  # (identifier, offset)
    paths: list[str] = field(default_factory=list)
    bound: set[str] = field(default_factory=set)


def _binding_variables(tokens: list[Token], i: int) -> list[str]:
    """Variables bound by a macro call starting at ``tokens[i]`` == '.'."""
    t = tokens
    if not (
        i + 4 < len(t)
        and t[i + 1].kind == "ident"
        and t[i + 1].text in BINDING_MACROS
        and t[i + 2].text == "("
        and t[i + 3].kind == "ident"
        and t[i + 4].text == ","
    ):
        return []
    names = [t[i + 3].text]
    if (
        t[i + 1].text in TWO_VARIABLE_MACROS
        and i + 6 < len(t)
        and t[i + 5].kind == "ident"
        and t[i + 6].text == ","
    ):
        names.append(t[i + 5].text)
    return names


def path_segments(tokens: list[Token], i: int) -> tuple[tuple[str, ...], int]:
    """The path starting at root identifier ``tokens[i]``, following member selections and
    string-literal index access up to the first method call or computed index; returns its
    segments and the index of the first token after it."""
    parts = [tokens[i].text]
    j = i + 1
    while j + 1 < len(tokens):
        tok, nxt = tokens[j], tokens[j + 1]
        if tok.text == "." and nxt.kind == "ident":
            if j + 2 < len(tokens) and tokens[j + 2].text == "(":
                break  # a method call such as .all( or .size(
            parts.append(nxt.text)
            j += 2
        elif tok.text == "[" and nxt.kind == "string" and j + 2 < len(tokens):
            value = string_value(nxt)
            if value is None or tokens[j + 2].text != "]":
                break
            parts.append(value)
            j += 3
        else:
            break
    return tuple(parts), j


def bound_variables(tokens: list[Token]) -> set[str]:
    """Every variable a comprehension macro binds anywhere in the expression."""
    bound: set[str] = set()
    for i, tok in enumerate(tokens):
        if tok.text == ".":
            bound.update(_binding_variables(tokens, i))
    return bound


def is_root(tokens: list[Token], i: int) -> bool:
    """Whether ``tokens[i]`` starts a reference: an identifier that is not a keyword, not a
    member of something before it and not the name of a called function."""
    tok = tokens[i]
    if tok.kind != "ident" or tok.text in KEYWORDS:
        return False
    if i > 0 and tokens[i - 1].text == ".":
        return False
    return not (i + 1 < len(tokens) and tokens[i + 1].text == "(")


def scan_expression(expr: str) -> ExpressionNames:
    """Root identifiers, referenced evidence paths and macro-bound variables of ``expr``."""
    tokens = tokenize(expr)
    names = ExpressionNames(bound=bound_variables(tokens))
    for i, tok in enumerate(tokens):
        if not is_root(tokens, i):
            continue
        names.roots.append((tok.text, tok.offset))
        if tok.text in names.bound or tok.text in TYPE_NAMES:
            continue
        path = ".".join(path_segments(tokens, i)[0])
        if path not in names.paths:
            names.paths.append(path)
    return names


# --- expression checks ---------------------------------------------------------------------


class ExpressionProblem(ValueError):
    """Why an expression was refused, and where inside it (0-based character offset)."""

    def __init__(self, reason: str, offset: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.offset = offset


_CEL_POSITION = re.compile(r"<input>:(\d+):(\d+):\s*(.*)")


def _offset_of(expr: str, line: int, column: int) -> int:
    """CEL reports 1-based line and column; turn them into an offset into ``expr``."""
    lines = expr.split("\n")
    line = max(1, min(line, len(lines)))
    return sum(len(x) + 1 for x in lines[: line - 1]) + max(0, column - 1)


def _syntax_problem(expr: str, error: Exception) -> ExpressionProblem:
    text = str(error)
    m = _CEL_POSITION.search(text)
    if not m:
        return ExpressionProblem(f"does not compile: {text.splitlines()[0]}", 0)
    reason = m.group(3).strip()
    # The parser lists every token it would have accepted; that list helps nobody.
    reason = re.sub(r"\s*expecting \{[^}]*\}", "", reason)
    offset = _offset_of(expr, int(m.group(1)), int(m.group(2)))
    # An error at the end of input points just past the last visible character, not past
    # the newline a YAML block scalar leaves at the end.
    return ExpressionProblem(reason, min(offset, len(expr.rstrip())))


def _unknown_root(name: str) -> str:
    hint = difflib.get_close_matches(name, CONTEXT_ROOTS, n=1)
    suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
    return (
        f"unknown identifier {name!r}: expressions start from {', '.join(CONTEXT_ROOTS)}"
        f"{suggestion}"
    )


def check_expression(expr: str) -> str:
    """Refuse an expression that does not compile or reads evidence that cannot exist."""
    import cel  # imported on first use: the package loads its CLI too (0.2 s at start)

    if not expr.strip():
        raise ExpressionProblem("is empty", 0)
    try:
        cel.compile(expr)
    except Exception as exc:  # the binding raises ValueError, but never trust a parser
        raise _syntax_problem(expr, exc) from None
    names = scan_expression(expr)
    allowed = set(CONTEXT_ROOTS) | names.bound | TYPE_NAMES
    for name, offset in names.roots:
        if name not in allowed:
            raise ExpressionProblem(_unknown_root(name), offset)
    return expr


# --- the document model --------------------------------------------------------------------


class DuplicateRule(ValueError):
    def __init__(self, name: str, index: int) -> None:
        super().__init__(f"rule name {name!r} is used twice")
        self.index = index


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AppliesTo(_Strict):
    risk_tiers: list[RiskTier] = Field(min_length=1)
    aliases: list[Name] = Field(min_length=1)


Expression = Annotated[
    str, Field(min_length=1, max_length=MAX_EXPR), AfterValidator(check_expression)
]


class RuleSpec(_Strict):
    name: Name
    expr: Expression
    message: str = Field(min_length=1, max_length=MAX_MESSAGE)


class PolicySpec(_Strict):
    name: Name
    description: str = ""
    applies_to: AppliesTo
    enabled: bool = True
    rules: list[RuleSpec] = Field(min_length=1, max_length=MAX_RULES)

    @field_validator("rules")
    @classmethod
    def _unique_rule_names(cls, rules: list[RuleSpec]) -> list[RuleSpec]:
        seen: set[str] = set()
        for i, rule in enumerate(rules):
            if rule.name in seen:
                raise DuplicateRule(rule.name, i)
            seen.add(rule.name)
        return rules

    def applies(self, risk_tier: str, alias: str) -> bool:
        """Whether this policy guards ``alias`` for a system of ``risk_tier``."""
        return (
            self.enabled
            and risk_tier in self.applies_to.risk_tiers
            and alias in self.applies_to.aliases
        )


def document_digest(text: str) -> str:
    """SHA-256 of a policy document as saved; the key its compiled form is cached under."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- YAML positions ------------------------------------------------------------------------


def _field_name(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "document"


def _node_at(root: yaml.Node | None, loc: tuple[Any, ...]) -> yaml.Node | None:
    node = root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if part < len(node.value) else None
        else:
            return node  # the deepest node that exists is the best place to point at
    return node


def _key_node_at(root: yaml.Node | None, loc: tuple[Any, ...]) -> yaml.Node | None:
    """For an unknown key, point at the key itself rather than its parent."""
    parent = _node_at(root, loc[:-1])
    if isinstance(parent, yaml.MappingNode):
        return next((k for k, _ in parent.value if k.value == loc[-1]), parent)
    return parent


def _where(node: yaml.Node | None) -> str:
    if node is None:
        return ""
    return f" (line {node.start_mark.line + 1}, column {node.start_mark.column + 1})"


def _content_starts(lines: list[str], node: yaml.ScalarNode) -> list[tuple[int, int]]:
    """(line, column), 0-based, where each source line of a scalar's text begins."""
    start, end = node.start_mark, node.end_mark
    last = end.line if end.column > 0 else end.line - 1
    if node.style in ("|", ">"):
        body = range(start.line + 1, last + 1)
        indents = [len(lines[n]) - len(lines[n].lstrip(" ")) for n in body if lines[n].strip()]
        indent = indents[0] if indents else 0
        return [(n, indent) for n in body]
    quote = 1 if node.style in ("'", '"') else 0
    starts = [(start.line, start.column + quote)]
    for n in range(start.line + 1, last + 1):
        starts.append((n, len(lines[n]) - len(lines[n].lstrip())))
    return starts


def _expression_position(text: str, node: yaml.Node, offset: int) -> tuple[int, int]:
    """File line and column (1-based) of character ``offset`` of a scalar's value.

    Folding joins source lines with one character (a newline for ``|``, a space otherwise),
    so walking the source lines and subtracting each line's length plus one finds the spot.
    Escapes inside quoted scalars can shift the column by a few characters.
    """
    if not isinstance(node, yaml.ScalarNode):
        return node.start_mark.line + 1, node.start_mark.column + 1
    lines = text.split("\n")
    starts = _content_starts(lines, node) or [(node.start_mark.line, node.start_mark.column)]
    for i, (line, column) in enumerate(starts):
        length = max(0, len(lines[line]) - column) if line < len(lines) else 0
        if offset <= length or i == len(starts) - 1:
            return line + 1, column + offset + 1
        offset -= length + 1
    raise AssertionError("unreachable")


# --- parsing -------------------------------------------------------------------------------


def _load(text: str) -> tuple[Any, yaml.Node | None]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "malformed"
        raise InvalidInput(f"invalid YAML{where}: {problem}", field="document") from None
    except yaml.YAMLError as exc:
        raise InvalidInput(f"invalid YAML: {exc}", field="document") from None
    return data, root


def _check_duplicate_keys(node: yaml.Node | None, loc: tuple[Any, ...] = ()) -> None:
    """YAML quietly keeps the last of two equal keys; a policy must not hide a rule that way."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if key.value in seen:
                raise InvalidInput(
                    f"{_field_name((*loc, key.value))}{_where(key)}: key appears twice",
                    field=_field_name((*loc, key.value)),
                )
            seen.add(key.value)
            _check_duplicate_keys(value, (*loc, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_duplicate_keys(item, (*loc, i))


def _readable(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "is required"
    if kind == "literal_error" and error["loc"][:2] == ("applies_to", "risk_tiers"):
        return f"{error['input']!r} is not a risk tier (low, medium, high, critical)"
    if kind == "too_short" and error["loc"] == ("rules",):
        return "a policy needs at least one rule"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def _raise_validation(exc: ValidationError, text: str, root: yaml.Node | None) -> None:
    error = exc.errors()[0]
    loc = tuple(error["loc"])
    name = _field_name(loc)
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, DuplicateRule):
        loc = ("rules", cause.index, "name")
        name = _field_name(loc)
    node = _node_at(root, loc)
    if isinstance(cause, ExpressionProblem) and node is not None:
        line, column = _expression_position(text, node, cause.offset)
        message = f"{name} (line {line}, column {column}): {cause.reason}"
    else:
        if error["type"] == "extra_forbidden":
            node = _key_node_at(root, loc)
        elif error["type"] == "missing":
            node = _node_at(root, loc[:-1])
        where = _where(node)
        message = f"{name}{where}: {_readable(error)}"
    raise InvalidInput(message, field=name) from None


def parse_policy(text: str) -> PolicySpec:
    """Validate a YAML policy document; any problem is an ``InvalidInput`` naming the field
    and, where the document has one, the line and column."""
    if not isinstance(text, str):
        raise InvalidInput("a policy document must be YAML text", field="document")
    size = len(text.encode("utf-8"))
    if size > MAX_DOCUMENT_BYTES:
        raise InvalidInput(
            f"policy document is {size} bytes; the limit is {MAX_DOCUMENT_BYTES}",
            field="document",
        )
    data, root = _load(text)
    if not isinstance(data, dict):
        shape = "empty" if data is None else f"a {type(data).__name__}"
        raise InvalidInput(
            f"a policy document must be a mapping, this one is {shape}",
            field="document",
        )
    _check_duplicate_keys(root)
    try:
        spec = PolicySpec.model_validate(data)
    except ValidationError as exc:
        _raise_validation(exc, text, root)
        raise  # _raise_validation always raises; this keeps type checkers calm
    return spec
