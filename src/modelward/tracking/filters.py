"""The run search language: a hand-written tokenizer and recursive-descent parser.

    filter     := "" | condition ("and" condition)*
    condition  := ident op value
                | ident ["not"] "in" "(" value ("," value)* ")"
                | ident ["not"] ("like" | "ilike") string
    ident      := entity "." (word | `back-quoted` | "quoted")
    entity     := metrics | params | tags | attributes   (singular forms and "attr" too)
    order item := ident ["asc" | "desc"]

Conditions become SQLAlchemy expressions with every value a bound parameter, so no
user text ever reaches the SQL string. Positions in error messages count characters
from 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from modelward.errors import InvalidInput
from modelward.tracking.tables import RUN_STATUSES

ENTITIES = {
    "metric": "metrics",
    "metrics": "metrics",
    "param": "params",
    "params": "params",
    "parameter": "params",
    "parameters": "params",
    "tag": "tags",
    "tags": "tags",
    "attribute": "attributes",
    "attributes": "attributes",
    "attr": "attributes",
    "run": "attributes",
}
# Attribute name → (column, kind); kinds decide which operators and values are allowed.
ATTRIBUTES = {
    "status": ("status", "status"),
    "name": ("name", "string"),
    "run_name": ("name", "string"),
    "run_id": ("id", "id"),
    "id": ("id", "id"),
    "created_by": ("created_by", "string"),
    "user": ("created_by", "string"),
    "start_time": ("start_time", "time"),
    "end_time": ("end_time", "time"),
}
KEYWORDS = {"and", "or", "not", "in", "like", "ilike", "asc", "desc"}
COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")

_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A key written without quotes; the runs table's header links quote every other key.
BARE_KEY = re.compile(r"[A-Za-z0-9_\-.:/]+")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Token:
    kind: str  # ident, string, number, op, keyword, "(", ")", ",", end
    text: str
    pos: int
    value: Any = None


@dataclass(frozen=True)
class Ident:
    entity: str  # metrics, params, tags, attributes
    key: str
    pos: int


@dataclass(frozen=True)
class Condition:
    ident: Ident
    op: str  # = != < <= > >= in "not in" like ilike "not like" "not ilike"
    value: Any  # float, str, int (time in ms) or a tuple of them for (not) in


@dataclass(frozen=True)
class OrderItem:
    ident: Ident
    descending: bool


class FilterError(InvalidInput):
    """A malformed filter or order-by, naming the character position."""

    def __init__(self, message: str, pos: int, field: str = "filter") -> None:
        super().__init__(f"{message} at position {pos}", field=field, position=pos)


def tokenize(text: str, field: str = "filter") -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i = _SPACE.match(text, i).end()  # type: ignore[union-attr]
        elif ch in "(),":
            tokens.append(Token(ch, ch, i))
            i += 1
        elif ch in "=!<>":
            op = text[i : i + 2] if text[i : i + 2] in ("!=", "<=", ">=", "==") else ch
            if op == "!":
                raise FilterError("unexpected character '!' (did you mean '!=')", i, field)
            tokens.append(Token("op", "=" if op == "==" else op, i))
            i += len(op)
        elif ch in "'\"":
            value, end = _quoted(text, i, field)
            tokens.append(Token("string", text[i:end], i, value))
            i = end
        elif ch.isdigit() or (ch in "+-." and _NUMBER.match(text, i)):
            m = _NUMBER.match(text, i)
            if m is None:
                raise FilterError(f"unexpected character {ch!r}", i, field)
            tokens.append(Token("number", m.group(), i, float(m.group())))
            i = m.end()
            if i < n and (text[i].isalnum() or text[i] == "_"):
                raise FilterError(f"unexpected character {text[i]!r} after a number", i, field)
        elif _WORD.match(text, i):
            token, i = _word(text, i, field)
            tokens.append(token)
        else:
            raise FilterError(f"unexpected character {ch!r}", i, field)
    tokens.append(Token("end", "end of input", n))
    return tokens


def _quoted(text: str, start: int, field: str) -> tuple[str, int]:
    """A quoted string; a backslash escapes the next character. Returns (value, end)."""
    quote, i, out = text[start], start + 1, []
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        elif ch == quote:
            return "".join(out), i + 1
        else:
            out.append(ch)
            i += 1
    raise FilterError("unterminated string starting", start, field)


def _word(text: str, start: int, field: str) -> tuple[Token, int]:
    m = _WORD.match(text, start)
    assert m is not None
    word, i = m.group(), m.end()
    if i >= len(text) or text[i] != ".":
        lower = word.lower()
        if lower in KEYWORDS:
            return Token("keyword", lower, start), i
        raise FilterError(
            f"unknown name {word!r}: write metrics.<key>, params.<key>, tags.<key> or "
            "attributes.<name>",
            start,
            field,
        )
    entity = ENTITIES.get(word.lower())
    if entity is None:
        raise FilterError(
            f"unknown entity {word!r}: use metrics, params, tags or attributes", start, field
        )
    i += 1  # the dot
    if i < len(text) and text[i] == "`":
        end = text.find("`", i + 1)
        if end < 0:
            raise FilterError("unterminated back-quoted key starting", i, field)
        key, i = text[i + 1 : end], end + 1
    elif i < len(text) and text[i] == '"':
        key, i = _quoted(text, i, field)
    else:
        km = BARE_KEY.match(text, i)
        if km is None:
            raise FilterError(f"expected a key after '{word}.'", i, field)
        key, i = km.group(), km.end()
    if not key:
        raise FilterError("empty key", start, field)
    return Token("ident", text[start:i], start, Ident(entity, key, start)), i


class _Parser:
    def __init__(self, text: str, field: str) -> None:
        self.field = field
        self.tokens = tokenize(text, field)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def fail(self, token: Token | None = None, expected: str = "") -> FilterError:
        token = token or self.tok
        shown = "end of input" if token.kind == "end" else f"token {token.text!r}"
        hint = f"; expected {expected}" if expected else ""
        if token.kind == "keyword" and token.text == "or":
            hint = "; conditions can only be joined with 'and'"
        return FilterError(f"unexpected {shown}{hint}", token.pos, self.field)

    def keyword(self, *words: str) -> bool:
        if self.tok.kind == "keyword" and self.tok.text in words:
            return True
        return False

    def ident(self) -> Ident:
        if self.tok.kind != "ident":
            raise self.fail(expected="metrics.<key>, params.<key>, tags.<key> or attributes.<name>")
        ident: Ident = self.take().value
        if ident.entity == "attributes" and ident.key not in ATTRIBUTES:
            names = ", ".join(sorted(ATTRIBUTES))
            raise FilterError(
                f"unknown attribute {ident.key!r} (one of {names})", ident.pos, self.field
            )
        return ident

    def conditions(self) -> list[Condition]:
        if self.tok.kind == "end":
            return []
        found = [self.condition()]
        while self.keyword("and"):
            self.take()
            found.append(self.condition())
        if self.tok.kind != "end":
            raise self.fail(expected="'and' or the end of the filter")
        return found

    def condition(self) -> Condition:
        ident = self.ident()
        negated = self.keyword("not")
        if negated:
            self.take()
        if self.keyword("in"):
            self.take()
            return _typed(self, ident, "not in" if negated else "in", self.value_list())
        if self.keyword("like", "ilike"):
            op = self.take().text
            value = self.take()
            if value.kind != "string":
                raise self.fail(value, expected="a quoted pattern")
            return _typed(self, ident, f"not {op}" if negated else op, value)
        if negated:
            raise self.fail(expected="'in', 'like' or 'ilike' after 'not'")
        if self.tok.kind != "op":
            raise self.fail(expected="an operator (= != < <= > >= like ilike in)")
        op = self.take().text
        value = self.take()
        if value.kind not in ("string", "number"):
            raise self.fail(value, expected="a number or a quoted string")
        return _typed(self, ident, op, value)

    def value_list(self) -> list[Token]:
        if self.tok.kind != "(":
            raise self.fail(expected="'(' after 'in'")
        self.take()
        values = []
        while True:
            value = self.take()
            if value.kind not in ("string", "number"):
                raise self.fail(value, expected="a quoted string or a number")
            values.append(value)
            sep = self.take()
            if sep.kind == ")":
                return values
            if sep.kind != ",":
                raise self.fail(sep, expected="',' or ')'")

    def order_item(self) -> OrderItem:
        ident = self.ident()
        descending = False
        if self.keyword("asc", "desc"):
            descending = self.take().text == "desc"
        if self.tok.kind != "end":
            raise self.fail(expected="'asc', 'desc' or the end of the item")
        return OrderItem(ident, descending)


def _typed(p: _Parser, ident: Ident, op: str, value: Token | list[Token]) -> Condition:
    """Check the operator and value suit the entity; convert the value."""
    values = value if isinstance(value, list) else [value]
    entity = ident.entity
    kind = "number" if entity == "metrics" else "string"
    if entity == "attributes":
        kind = ATTRIBUTES[ident.key][1]
    label = f"{entity}.{ident.key}"
    allowed = {
        "number": COMPARISONS,
        "time": COMPARISONS,
        "id": ("=", "!=", "in", "not in"),
        "status": ("=", "!=", "in", "not in"),
        "string": ("=", "!=", "in", "not in", "like", "ilike", "not like", "not ilike"),
    }[kind]
    if op not in allowed:
        raise FilterError(
            f"operator {op!r} does not apply to {label} (use {', '.join(allowed)})",
            values[0].pos,
            p.field,
        )
    converted = tuple(_convert(p, label, kind, v) for v in values)
    return Condition(ident, op, converted if op.endswith("in") else converted[0])


def _convert(p: _Parser, label: str, kind: str, token: Token) -> Any:
    if kind == "number":
        if token.kind != "number":
            raise FilterError(
                f"{label} compares with a number, not {token.text}", token.pos, p.field
            )
        return token.value
    if kind == "time":
        if token.kind == "number":
            return int(token.value)
        try:
            moment = datetime.fromisoformat(token.value)
        except ValueError:
            raise FilterError(
                f"{label} compares with milliseconds since the epoch or an ISO date, "
                f"not {token.text}",
                token.pos,
                p.field,
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return int(moment.timestamp() * 1000)
    if token.kind != "string":
        raise FilterError(
            f'{label} compares with a quoted string, e.g. "{token.text}"', token.pos, p.field
        )
    if kind == "status":
        status = token.value.upper()
        if status not in RUN_STATUSES:
            raise FilterError(
                f"unknown status {token.value!r} (one of {', '.join(RUN_STATUSES)})",
                token.pos,
                p.field,
            )
        return status
    return token.value


def parse_filter(text: str) -> list[Condition]:
    """The conditions of a filter (all must hold), or ``InvalidInput`` naming the position."""
    return _Parser(text or "", "filter").conditions()


def parse_order_by(items: list[str]) -> list[OrderItem]:
    """``["metrics.auc desc", "params.x"]`` as order items."""
    return [_Parser(item, "order_by").order_item() for item in items]
