"""Gate results for people: a rich table of every rule and a one-line summary."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

from rich.table import Table
from rich.text import Text


class ResultLike(Protocol):
    """A ``RuleResult`` or anything shaped like one (e.g. a stored decision's outcome)."""

    policy: str
    policy_version: int
    rule: str
    outcome: str
    message: str
    values: dict[str, Any]
    detail: str


OUTCOME_STYLES = {
    "pass": "bold green",
    "fail": "bold red",
    "missing": "bold yellow",
    "error": "bold magenta",
}


def _value_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)
    return str(value)


def _values_cell(result: ResultLike) -> Text:
    lines = [f"{path}={_value_text(value)}" for path, value in result.values.items()]
    return Text("\n".join(lines))


def _message_cell(result: ResultLike) -> Text:
    # The detail explains anything but a plain pass or fail, e.g. which evidence is absent.
    text = Text(result.message)
    if result.detail:
        text.append(f"\n{result.detail}", style="dim")
    return text


def results_table(results: Sequence[ResultLike], title: str) -> Table:
    """One row per rule: policy, rule, coloured outcome, the values it saw, its message."""
    table = Table(title=title, show_lines=True)
    table.add_column("policy", no_wrap=True)
    table.add_column("rule", no_wrap=True)
    table.add_column("outcome", no_wrap=True)
    table.add_column("values seen")
    table.add_column("message")
    for r in results:
        outcome = Text(r.outcome.upper(), style=OUTCOME_STYLES.get(r.outcome, "bold"))
        table.add_row(
            f"{r.policy} v{r.policy_version}",
            r.rule,
            outcome,
            _values_cell(r),
            _message_cell(r),
        )
    return table


def summary_line(results: Sequence[ResultLike]) -> str:
    """E.g. "3 of 7 rules failed: holdout-auc, approvals, card" or "all 7 rules passed"."""
    total = len(results)
    if total == 0:
        return "no rules apply"
    failed = [r.rule for r in results if r.outcome != "pass"]
    if not failed:
        return f"all {total} rules passed" if total > 1 else "1 of 1 rule passed"
    # The same rule name can exist in two policies; list each once, in order.
    names = list(dict.fromkeys(failed))
    noun = "rule" if total == 1 else "rules"
    return f"{len(failed)} of {total} {noun} failed: {', '.join(names)}"
