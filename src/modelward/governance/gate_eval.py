"""Evaluate compiled policies against an evidence context, failing closed.

Every rule yields exactly one result and evaluation never raises: a rule that reads absent
evidence is "missing", one that blows up or returns a non-boolean is "error", and only
"pass" lets a model through. Each result records the evidence values the rule looked at,
so a refused promotion explains itself.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import cel

from modelward.governance.policy_doc import (
    TYPE_NAMES,
    PolicySpec,
    RuleSpec,
    Token,
    bound_variables,
    is_root,
    path_segments,
    scan_expression,
    tokenize,
)

PASS, FAIL, MISSING_OUTCOME, ERROR = "pass", "fail", "missing", "error"
MISSING_SHOWN = "<missing>"
MAX_SHOWN = 200
# Roots holding maps; an absent one is given to CEL as an empty map so ``has(system.x)``
# answers false and ``system.x`` raises a key error that names the path, rather than an
# "undefined variable" error.
MAP_ROOTS = (
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
_CACHE_SIZE = 512
# Macros that iterate a map's keys; a map read only this way and through ``m[key].field``
# can be handed to CEL with each member cut down to the fields the rule reads.
_KEY_ONLY_CALLS = frozenset({"all", "exists", "exists_one", "filter", "map", "size"})
_VARIABLE_PREFIX = "mw__"
_UNDEFINED = re.compile(r"Undefined variable or function: '([^']+)'")


class _Missing:
    """The value of a path that leads nowhere in the context."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return MISSING_SHOWN

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


def referenced_paths(expr: str) -> list[str]:
    """Dotted evidence paths ``expr`` reads, in order of first appearance.

    ``m["x"]`` counts as ``m.x``; paths stop at a method call or computed index, and
    variables bound by comprehensions are not evidence.
    """
    return scan_expression(expr).paths


def lookup(context: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path, or ``MISSING``."""
    node: Any = context
    for part in path.split("."):
        # dict first: the abstract Mapping check is slow and contexts are plain dicts.
        if not (isinstance(node, dict) or isinstance(node, Mapping)) or part not in node:
            return MISSING
        node = node[part]
    return node


def _failing_segment(context: Mapping[str, Any], path: str) -> str | None:
    node: Any = context
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return part
        node = node[part]
    return None


def _scalar_text(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return "null" if value is None else ("true" if value else "false")
    if isinstance(value, int | float):
        return repr(value)  # finite by contract, so repr is already JSON
    return json.dumps(value if isinstance(value, str) else str(value))


def _chunks(value: Any) -> Iterator[str]:
    """Compact JSON text of ``value``, produced lazily so a preview can stop early."""
    if isinstance(value, dict):
        yield "{"
        for n, (key, item) in enumerate(value.items()):
            yield ("," if n else "") + json.dumps(str(key)) + ":"
            yield from _chunks(item)
        yield "}"
    elif isinstance(value, list | tuple):
        yield "["
        for n, item in enumerate(value):
            if n:
                yield ","
            yield from _chunks(item)
        yield "]"
    else:
        yield _scalar_text(value)


def _shown(value: Any) -> Any:
    """A value small enough to store with every decision and print in a table cell."""
    if value is MISSING:
        return MISSING_SHOWN
    if isinstance(value, str):
        return value if len(value) <= MAX_SHOWN else value[: MAX_SHOWN - 1] + "…"
    if isinstance(value, list | dict):
        text = ""
        for chunk in _chunks(value):
            text += chunk
            if len(text) > MAX_SHOWN:
                return text[: MAX_SHOWN - 1] + "…"
        return value
    return value


_CEL_TYPES = {bool: "bool", int: "int", float: "double", str: "string", bytes: "bytes"}


def _cel_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "map"
    return _CEL_TYPES.get(type(value), type(value).__name__)


@dataclass(frozen=True)
class RuleResult:
    policy: str
    policy_version: int
    rule: str
    outcome: str  # pass | fail | missing | error
    message: str
    values: dict[str, Any]
    detail: str  # "missing: <path>", the error text, or ""

    @property
    def passed(self) -> bool:
        return self.outcome == PASS

    def to_dict(self) -> dict[str, Any]:
        # Spelt out rather than dataclasses.asdict, which deep-copies every value seen and
        # costs more than evaluating the rule.
        return {
            "policy": self.policy,
            "policy_version": self.policy_version,
            "rule": self.rule,
            "outcome": self.outcome,
            "message": self.message,
            "values": dict(self.values),
            "detail": self.detail,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RuleResult:
        """Rebuild a stored result, e.g. from a gate decision."""
        return cls(
            policy=str(data["policy"]),
            policy_version=int(data["policy_version"]),
            rule=str(data["rule"]),
            outcome=str(data["outcome"]),
            message=str(data.get("message", "")),
            values=dict(data.get("values") or {}),
            detail=str(data.get("detail", "")),
        )


class Evidence:
    """One evidence context and the CEL view of it, shared by every rule of every policy.

    Converting Python values for CEL costs about a microsecond per value, and a context
    with slices and fairness groups holds thousands. So each rule is compiled against
    variables bound to just the paths it reads (see ``_flatten``), and only those values
    are converted, once per check. Not thread-safe: build one per check.
    """

    __slots__ = ("data", "_variables", "_cel", "_full", "_shown")

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self._shown: dict[str, Any] = {}
        self._variables: dict[str, Any] = {}
        self._cel: cel.Context | None = None
        self._full: cel.Context | None = None

    def prepare(self, bindings: Iterable[_Binding]) -> cel.Context:
        """The CEL context holding every variable in ``bindings`` (converted once)."""
        import cel  # imported on first use: the package loads its CLI too (0.2 s at start)

        fresh = [b for b in bindings if b.name not in self._variables]
        for b in fresh:
            self._variables[b.name] = b.resolve(self.data)
        if fresh or self._cel is None:
            present = {k: v for k, v in self._variables.items() if v is not MISSING}
            self._cel = cel.Context(present)
        return self._cel

    def shown(self, path: str) -> Any:
        """The display form of a path's value; several rules often read the same one."""
        if path not in self._shown:
            self._shown[path] = _shown(lookup(self.data, path))
        return self._shown[path]

    @property
    def full_context(self) -> cel.Context:
        """The whole context for CEL, for a rule that could not be flattened."""
        import cel

        if self._full is None:
            variables = dict(self.data)
            for root in MAP_ROOTS:
                variables.setdefault(root, {})
            self._full = cel.Context(variables)
        return self._full


def _lookup_segments(context: Mapping[str, Any], segments: tuple[str, ...]) -> Any:
    node: Any = context
    for part in segments:
        if not isinstance(node, Mapping) or part not in node:
            return MISSING
        node = node[part]
    return node


def _project(member: Mapping[str, Any], chains: frozenset[tuple[str, ...]]) -> dict[str, Any]:
    """``member`` cut down to the field chains a rule reads; absent fields stay absent."""
    out: dict[str, Any] = {}
    for chain in chains:
        src, dst = member, out
        for depth, segment in enumerate(chain):
            if segment not in src:
                break
            value = src[segment]
            if depth == len(chain) - 1 or not isinstance(value, Mapping):
                dst.setdefault(segment, value)
                break
            src, dst = value, dst.setdefault(segment, {})
    return out


@dataclass(frozen=True)
class _Binding:
    """A CEL variable standing for one evidence path.

    kind "value": the value at ``segments`` (members projected to ``fields`` when set).
    kind "has": stands for the parent in ``has(parent.last)``; only whether ``last`` is
    present matters, so just that key is converted.
    """

    name: str
    kind: str
    segments: tuple[str, ...]
    fields: frozenset[tuple[str, ...]] | None = None  # None: the whole value
    last: str = ""

    @property
    def path(self) -> str:
        return ".".join(self.segments + ((self.last,) if self.kind == "has" else ()))

    def resolve(self, data: Mapping[str, Any]) -> Any:
        value = _lookup_segments(data, self.segments)
        if value is MISSING:
            root_map = len(self.segments) == 1 and self.segments[0] in MAP_ROOTS
            return {} if root_map else MISSING
        if self.kind == "has":
            if isinstance(value, Mapping):
                return {self.last: True} if self.last in value else {}
            return value  # not a map: let CEL report the misuse as it would
        if self.fields is not None and isinstance(value, Mapping):
            if all(isinstance(v, Mapping) for v in value.values()):
                return {k: _project(v, self.fields) for k, v in value.items()}
        return value


_variables: dict[tuple[Any, ...], _Binding] = {}
_by_name: dict[str, _Binding] = {}
_variables_lock = threading.Lock()


def _binding(
    kind: str,
    segments: tuple[str, ...],
    fields: frozenset[tuple[str, ...]] | None = None,
    last: str = "",
) -> _Binding:
    """One variable name per distinct binding, process-wide, so rules of different
    policies reading the same path share one converted value."""
    key = (kind, segments, fields, last)
    with _variables_lock:
        found = _variables.get(key)
        if found is None:
            name = f"{_VARIABLE_PREFIX}{len(_variables)}"
            found = _variables[key] = _by_name[name] = _Binding(name, kind, segments, fields, last)
    return found


def _inside_has(tokens: list[Token], i: int, end: int) -> bool:
    return (
        i >= 2
        and tokens[i - 1].text == "("
        and tokens[i - 2].text == "has"
        and end < len(tokens)
        and tokens[end].text == ")"
        and tokens[end - 2].text == "."
    )


def _member_chain(tokens: list[Token], j: int, bound: set[str]) -> tuple[str, ...] | None:
    """After a path: ``[var].a.b`` gives ("a", "b"); a key-iterating macro or ``.size()``
    gives (); any other use needs the whole value (None)."""
    t = tokens
    if j + 2 < len(t) and t[j].text == "[" and t[j + 1].text in bound and t[j + 2].text == "]":
        chain: list[str] = []
        k = j + 3
        while k + 1 < len(t) and t[k].text == "." and t[k + 1].kind == "ident":
            if k + 2 < len(t) and t[k + 2].text == "(":
                break
            chain.append(t[k + 1].text)
            k += 2
        return tuple(chain) or None
    if (
        j + 2 < len(t)
        and t[j].text == "."
        and t[j + 1].text in _KEY_ONLY_CALLS
        and t[j + 2].text == "("
    ):
        return ()
    return None


def _shortest(chains: set[tuple[str, ...]]) -> frozenset[tuple[str, ...]]:
    """Drop chains that extend another: reading ``a`` already brings ``a.b``."""
    return frozenset(c for c in chains if not any(o != c and c[: len(o)] == o for o in chains))


Uses = dict[tuple[str, ...], "set[tuple[str, ...]] | None"]
Span = tuple[int, int, tuple[str, ...], bool]  # start, end, segments, inside has()


def _occurrences(expr: str) -> tuple[list[Span], Uses]:
    """Where ``expr`` reads evidence, and how: per path, the member fields it reads through
    a computed index (an empty set: keys only), or None when it needs the whole value."""
    tokens = tokenize(expr)
    bound = bound_variables(tokens)
    spans: list[Span] = []
    uses: Uses = {}
    for i, tok in enumerate(tokens):
        if not is_root(tokens, i) or tok.text in bound or tok.text in TYPE_NAMES:
            continue
        segments, end = path_segments(tokens, i)
        if len(segments) >= 2 and _inside_has(tokens, i, end):
            parent_end = tokens[end - 3]
            spans.append((tok.offset, parent_end.offset + len(parent_end.text), segments, True))
            continue
        last = tokens[end - 1]
        spans.append((tok.offset, last.offset + len(last.text), segments, False))
        in_size = i >= 2 and tokens[i - 1].text == "(" and tokens[i - 2].text == "size"
        if in_size and end < len(tokens) and tokens[end].text == ")":
            chain: tuple[str, ...] | None = ()  # size(m) counts keys, members unread
        else:
            chain = _member_chain(tokens, end, bound)
        _merge_use(uses, segments, chain if chain is None else {chain} - {()})
    return spans, uses


def _merge_use(uses: Uses, segments: tuple[str, ...], chains: set[tuple[str, ...]] | None) -> None:
    known = uses.get(segments, set())
    uses[segments] = None if chains is None or known is None else known | chains


def _rewrite(expr: str, spans: list[Span], uses: Uses) -> tuple[str, tuple[_Binding, ...]]:
    """Rewrite ``expr`` so each evidence path becomes one variable.

    ``evaluations.holdout.roc_auc >= 0.7`` becomes ``mw__3 >= 0.7``; an absent path leaves
    its variable unbound, which CEL reports only if evaluation reaches it, so ``||`` and
    ``?:`` keep short-circuiting over absent evidence.
    """
    out, bindings = expr, {}
    for start, stop, segments, has in reversed(spans):
        if has:
            b = _binding("has", segments[:-1], last=segments[-1])
        else:
            chains = uses[segments]
            b = _binding("value", segments, None if chains is None else _shortest(chains))
        bindings[b.name] = b
        out = out[:start] + b.name + out[stop:]
    return out, tuple(bindings.values())


def _flatten(expr: str) -> tuple[str, tuple[_Binding, ...]]:
    spans, uses = _occurrences(expr)
    return _rewrite(expr, spans, uses)


def _first_sentence(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "evaluation failed"
    head, dot, _ = line.partition(". ")
    return head + ("." if dot else "")


@dataclass(frozen=True)
class _Rule:
    name: str
    message: str
    program: Any
    paths: tuple[str, ...]
    bindings: tuple[_Binding, ...] | None  # None: evaluated against the whole context


def _compile_rules(rules: list[RuleSpec]) -> tuple[_Rule, ...]:
    """Compile every rule of a policy, merging how rules read the same path so that path
    is converted for CEL once per check, not once per rule."""
    found: dict[str, tuple[list[Span], Uses]] = {}
    merged: Uses = {}
    for rule in rules:
        try:
            found[rule.name] = spans, uses = _occurrences(rule.expr)
        except Exception:  # an unknown form: evaluated against the whole context
            continue
        for segments, chains in uses.items():
            _merge_use(merged, segments, chains)
    return tuple(_compile_rule(rule, found.get(rule.name), merged) for rule in rules)


def _compile_rule(rule: RuleSpec, found: tuple[list[Span], Uses] | None, merged: Uses) -> _Rule:
    import cel

    paths = tuple(referenced_paths(rule.expr))
    if found is not None:
        try:
            flat, bindings = _rewrite(rule.expr, found[0], merged)
            return _Rule(rule.name, rule.message, cel.compile(flat), paths, bindings)
        except Exception:  # a form the rewrite does not know
            pass
    # Slower, since the whole context is converted, but just as correct.
    return _Rule(rule.name, rule.message, cel.compile(rule.expr), paths, None)


class CompiledPolicy:
    """A policy version with every rule compiled once; evaluating it never compiles."""

    def __init__(self, spec: PolicySpec, version: int) -> None:
        self.spec = spec
        self.name = spec.name
        self.version = version
        self._rules = _compile_rules(spec.rules)
        self.bindings = tuple({b.name: b for r in self._rules for b in (r.bindings or ())}.values())

    def applies(self, risk_tier: str, alias: str) -> bool:
        return self.spec.applies(risk_tier, alias)

    def evaluate(self, context: Mapping[str, Any] | Evidence) -> list[RuleResult]:
        evidence = context if isinstance(context, Evidence) else Evidence(context)
        variables = evidence.prepare(self.bindings)
        return [self._evaluate_rule(rule, evidence, variables) for rule in self._rules]

    def _evaluate_rule(self, rule: _Rule, evidence: Evidence, variables: Any) -> RuleResult:
        data = evidence.data
        values = {path: evidence.shown(path) for path in rule.paths}
        outcome, detail = ERROR, ""
        try:
            ctx = variables if rule.bindings is not None else evidence.full_context
            value = rule.program.execute(ctx)
        except KeyError as exc:
            outcome, detail = MISSING_OUTCOME, _missing_detail(rule, data, exc)
        except Exception as exc:  # whatever CEL raises, the gate must answer
            outcome, detail = _classify_error(rule, data, exc)
        else:
            if isinstance(value, bool):
                outcome = PASS if value else FAIL
            else:
                detail = (
                    f"rule must give true or false, gave {_shown(value)!r} ({_cel_type(value)})"
                )
        return RuleResult(self.name, self.version, rule.name, outcome, rule.message, values, detail)


def _classify_error(rule: _Rule, data: Mapping[str, Any], exc: Exception) -> tuple[str, str]:
    text = str(exc)
    undefined = _UNDEFINED.search(text)
    if undefined:
        # An unbound variable is an absent evidence path, not a broken rule.
        binding = _by_name.get(undefined.group(1))
        if binding is not None:
            return MISSING_OUTCOME, f"missing: {binding.path}"
        absent = [p for p in rule.paths if lookup(data, p) is MISSING]
        return MISSING_OUTCOME, f"missing: {absent[0] if absent else undefined.group(1)}"
    return ERROR, _first_sentence(text) or type(exc).__name__


def _missing_detail(rule: _Rule, data: Mapping[str, Any], exc: KeyError) -> str:
    """Name the absent path: the first referenced path that breaks at the key CEL could not
    find, else the first absent one, else just the key (reached through a computed index)."""
    key = str(exc.args[0]) if exc.args else ""
    absent = [(p, _failing_segment(data, p)) for p in rule.paths]
    absent = [(p, seg) for p, seg in absent if seg is not None]
    for path, segment in absent:
        if segment == key:
            return f"missing: {path}"
    if absent:
        return f"missing: {absent[0][0]}"
    return f"missing: {_member_lacking(rule, data, key)}"


def _member_lacking(rule: _Rule, data: Mapping[str, Any], key: str) -> str:
    """For ``m.all(c, m[c].x ...)``: the first member of a referenced map that lacks ``key``."""
    for path in rule.paths:
        value = lookup(data, path)
        if isinstance(value, Mapping):
            for member, child in value.items():
                if isinstance(child, Mapping) and key not in child:
                    return f"{path}.{member}.{key}"
    return key


def evaluate_policies(
    policies: Iterable[CompiledPolicy], context: Mapping[str, Any] | Evidence
) -> list[RuleResult]:
    """Every rule of every policy against one context, converted for CEL once."""
    evidence = context if isinstance(context, Evidence) else Evidence(context)
    policies = list(policies)
    evidence.prepare(b for p in policies for b in p.bindings)  # one conversion for all
    results: list[RuleResult] = []
    for policy in policies:
        results.extend(policy.evaluate(evidence))
    return results


_cache: dict[tuple[str, int], CompiledPolicy] = {}
_cache_lock = threading.Lock()


def spec_digest(spec: PolicySpec | Mapping[str, Any]) -> str:
    data = spec.model_dump(mode="json") if isinstance(spec, PolicySpec) else spec
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def compile_policy(
    spec: PolicySpec | Mapping[str, Any], version: int, digest: str = ""
) -> CompiledPolicy:
    """The compiled form of a policy version, from cache when its digest was seen before.

    Pass the stored document digest to skip hashing and, for a stored spec dict, validation:
    on a cache hit nothing is parsed or compiled.
    """
    key = (digest or spec_digest(spec), version)
    found = _cache.get(key)
    if found is not None:
        return found
    parsed = spec if isinstance(spec, PolicySpec) else PolicySpec.model_validate(spec)
    compiled = CompiledPolicy(parsed, version)
    with _cache_lock:
        if len(_cache) >= _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))  # oldest first: dicts keep insertion order
        _cache[key] = compiled
    return compiled
