"""How the CLI shows gate reports: the rule table, then a verdict line."""

from __future__ import annotations

from typing import Any, cast

from modelward.cli.common import console, err_console
from modelward.governance.results_table import results_table, summary_line
from modelward.governance.schemas import GateReport


def print_gate(report: GateReport | dict[str, Any], *, to_stderr: bool = False) -> None:
    """The table of every rule and a one-line verdict."""
    if isinstance(report, dict):
        report = GateReport.model_validate(report)
    out = err_console if to_stderr else console
    where = f"{report.model}/{report.version} → @{report.target_alias}"
    if not report.governed:
        tier = f" (tier {report.risk_tier})" if report.risk_tier else " (not in the AI register)"
        out.print(f"{where}: no policy guards this alias{tier}", highlight=False)
        return
    policies = ", ".join(f"{n} v{v}" for n, v in report.policies.items())
    out.print(
        results_table(
            cast(Any, report.results), f"{where} · {report.system} · tier {report.risk_tier}"
        )
    )
    verdict = "[green]PASS[/green]" if report.passed else "[red]REFUSED[/red]"
    out.print(f"{verdict} {summary_line(cast(Any, report.results))} ({policies})", highlight=False)
