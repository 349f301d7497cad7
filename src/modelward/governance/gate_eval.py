"""Evaluate compiled policies against an evidence context, failing closed.

Every rule yields exactly one result and evaluation never raises: a rule that reads absent
evidence is "missing", one that blows up or returns a non-boolean is "error", and only
"pass" lets a model through. Each result records the evidence values the rule looked at,
so a refused promotion explains itself.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import cel

from modelward.governance.policy_doc import PolicySpec, scan_expression

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
        if not isinstance(node, Mapping) or part not in node:
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


def _shown(value: Any) -> Any:
    """A value small enough to store with every decision and print in a table cell."""
    if value is MISSING:
        return MISSING_SHOWN
    if isinstance(value, str):
        return value if len(value) <= MAX_SHOWN else value[: MAX_SHOWN - 1] + "…"
    if isinstance(value, list | dict):
        text = json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)
        return value if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"
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
        return asdict(self)

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
    """One evidence context and the CEL view of it, built once and shared by every rule.

    A ``cel.Context`` converts its variables on first use and reuses them until modified;
    rules only read it, so one instance serves all rules of all policies for one check.
    Not thread-safe: build one per check.
    """

    __slots__ = ("data", "_cel")

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self._cel: cel.Context | None = None

    @property
    def cel_context(self) -> cel.Context:
        if self._cel is None:
            variables = dict(self.data)
            for root in MAP_ROOTS:
                variables.setdefault(root, {})
            self._cel = cel.Context(variables)
        return self._cel


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


class CompiledPolicy:
    """A policy version with every rule compiled once; evaluating it never compiles."""

    def __init__(self, spec: PolicySpec, version: int) -> None:
        self.spec = spec
        self.name = spec.name
        self.version = version
        self._rules = tuple(
            _Rule(r.name, r.message, cel.compile(r.expr), tuple(referenced_paths(r.expr)))
            for r in spec.rules
        )

    def applies(self, risk_tier: str, alias: str) -> bool:
        return self.spec.applies(risk_tier, alias)

    def evaluate(self, context: Mapping[str, Any] | Evidence) -> list[RuleResult]:
        evidence = context if isinstance(context, Evidence) else Evidence(context)
        return [self._evaluate_rule(rule, evidence) for rule in self._rules]

    def _evaluate_rule(self, rule: _Rule, evidence: Evidence) -> RuleResult:
        data = evidence.data
        values = {path: _shown(lookup(data, path)) for path in rule.paths}
        outcome, detail = ERROR, ""
        try:
            value = rule.program.execute(evidence.cel_context)
        except KeyError as exc:
            outcome, detail = MISSING_OUTCOME, _missing_detail(rule, data, exc)
        except Exception as exc:  # whatever CEL raises, the gate must answer
            outcome, detail = self._classify_error(rule, data, exc)
        else:
            if isinstance(value, bool):
                outcome = PASS if value else FAIL
            else:
                detail = (
                    f"rule must give true or false, gave {_shown(value)!r} ({_cel_type(value)})"
                )
        return RuleResult(self.name, self.version, rule.name, outcome, rule.message, values, detail)

    @staticmethod
    def _classify_error(rule: _Rule, data: Mapping[str, Any], exc: Exception) -> tuple[str, str]:
        text = str(exc)
        if "Undefined variable" in text:
            # Only a non-map root (``now``) can be undefined; absent evidence, not a bug.
            absent = [p for p in rule.paths if lookup(data, p) is MISSING]
            return MISSING_OUTCOME, f"missing: {absent[0] if absent else text}"
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
