"""Where alert notifications go: a webhook (Slack-compatible JSON), a local command, the audit log.

A sink that fails never stops a monitor run: its outcome (status code, exit code or error) is
returned and recorded in the alert's details, and the next sink is tried.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from typing import Any
from urllib.parse import urlsplit

from modelward.errors import InvalidInput
from modelward.uow import UnitOfWork

WEBHOOK_TIMEOUT_S = 5.0
COMMAND_TIMEOUT_S = 10.0
MAX_TIMEOUT_S = 3600.0
MAX_OUTPUT_CHARS = 10_000
MAX_URL = 2000
SINK_KINDS = ("webhook", "command", "audit")
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


# ------------------------------------------------------------------ validation


def check_url(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_URL:
        raise InvalidInput(
            f"{field}: must be an http(s) URL of at most {MAX_URL} chars", field=field
        )
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(
            f"{field}: must be an http(s) URL with a host, got {value!r}", field=field
        )
    return value


def check_argv(value: Any, field: str) -> list[str]:
    if not isinstance(value, list) or not value:
        raise InvalidInput(f"{field}: must be a non-empty list of strings", field=field)
    for i, part in enumerate(value):
        if not isinstance(part, str) or "\x00" in part or (i == 0 and not part):
            raise InvalidInput(f"{field}[{i}]: must be a string without NUL", field=f"{field}[{i}]")
    return list(value)


def check_headers(value: Any, field: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and k and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidInput(f"{field}: must map header names to strings", field=field)
    return dict(value)


def check_timeout(value: Any, field: str, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"{field}: must be a number of seconds", field=field)
    if not 0 < value <= MAX_TIMEOUT_S:
        raise InvalidInput(f"{field}: must be in (0, {MAX_TIMEOUT_S:g}] seconds", field=field)
    return float(value)


def check_sink(sink: Any, field: str) -> dict[str, Any]:
    if not isinstance(sink, dict):
        raise InvalidInput(f"{field}: must be an object with a 'kind'", field=field)
    kind = sink.get("kind")
    if kind not in SINK_KINDS:
        raise InvalidInput(
            f"{field}.kind: must be one of {', '.join(SINK_KINDS)}, got {kind!r}",
            field=f"{field}.kind",
        )
    allowed = {
        "webhook": {"kind", "url", "headers", "timeout"},
        "command": {"kind", "argv", "timeout"},
        "audit": {"kind"},
    }[kind]
    extra = sorted(set(sink) - allowed)
    if extra:
        raise InvalidInput(f"{field}: unknown key {extra[0]!r} for a {kind} sink", field=field)
    out: dict[str, Any] = {"kind": kind}
    if kind == "webhook":
        out["url"] = check_url(sink.get("url"), f"{field}.url")
        if "headers" in sink:
            out["headers"] = check_headers(sink["headers"], f"{field}.headers")
    elif kind == "command":
        out["argv"] = check_argv(sink.get("argv"), f"{field}.argv")
    if "timeout" in sink:
        out["timeout"] = check_timeout(sink["timeout"], f"{field}.timeout", WEBHOOK_TIMEOUT_S)
    return out


# ------------------------------------------------------------------ delivery


def expand_env(value: str) -> str:
    """``${NAME}`` from the server's environment: secrets (tokens) stay out of the store."""
    return _ENV_REF.sub(lambda m: os.environ.get(m.group(1), ""), value)


def tail(text: str, limit: int = MAX_OUTPUT_CHARS) -> str:
    return text[-limit:]


def post_json(
    url: str,
    body: Any,
    *,
    headers: dict[str, str] | None = None,
    timeout: float = WEBHOOK_TIMEOUT_S,
) -> dict[str, Any]:
    """POST ``body`` as JSON; the outcome as a dict, never an exception."""
    import httpx

    sent = {k: expand_env(v) for k, v in (headers or {}).items()}
    try:
        response = httpx.post(url, json=body, headers=sent, timeout=timeout)
    except httpx.HTTPError as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]}
    ok = 200 <= response.status_code < 300
    result: dict[str, Any] = {"ok": ok, "status": response.status_code}
    if not ok:
        result["error"] = f"HTTP {response.status_code}: {response.text[:300]}"
    return result


def run_command(
    argv: list[str],
    stdin_text: str,
    env: dict[str, str],
    *,
    timeout: float = COMMAND_TIMEOUT_S,
    cwd: str | None = None,
) -> dict[str, Any]:
    """Run ``argv`` with ``stdin_text`` on stdin; stdout and stderr kept together (last 10 KB)."""
    try:
        done = subprocess.run(
            argv,
            input=stdin_text.encode(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
            cwd=cwd,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        output = (exc.output or b"").decode(errors="replace")
        return {
            "ok": False,
            "exit_code": None,
            "output": tail(output),
            "error": f"timed out after {timeout:g} s",
        }
    except OSError as exc:
        return {"ok": False, "exit_code": None, "output": "", "error": f"cannot start: {exc}"}
    output = done.stdout.decode(errors="replace")
    result: dict[str, Any] = {
        "ok": done.returncode == 0,
        "exit_code": done.returncode,
        "output": tail(output),
    }
    if done.returncode != 0:
        result["error"] = f"exit code {done.returncode}"
    return result


def slack_text(alert: dict[str, Any]) -> str:
    value = alert.get("value")
    shown = "" if value is None else f" (value {value:.4g}, threshold {alert.get('threshold')})"
    return f"[{alert['severity'].upper()}] {alert['endpoint']}: {alert['title']}{shown}"


def alert_env(alert: dict[str, Any]) -> dict[str, str]:
    keys = (
        "id",
        "endpoint",
        "rule",
        "metric",
        "subject",
        "severity",
        "status",
        "title",
        "value",
        "threshold",
        "occurrences",
    )
    return {
        f"MODELWARD_ALERT_{k.upper()}": "" if alert.get(k) is None else str(alert[k]) for k in keys
    }


def deliver(uow: UnitOfWork, alert: dict[str, Any], sink: dict[str, Any]) -> dict[str, Any]:
    """Send one notification; the outcome (without command output) for the alert's details."""
    kind = sink["kind"]
    if kind == "webhook":
        body = {"text": slack_text(alert), "modelward": alert}
        timeout = sink.get("timeout", WEBHOOK_TIMEOUT_S)
        result = post_json(sink["url"], body, headers=sink.get("headers"), timeout=timeout)
        return {"kind": kind, "target": sink["url"], **result}
    if kind == "command":
        timeout = sink.get("timeout", COMMAND_TIMEOUT_S)
        result = run_command(sink["argv"], json.dumps(alert), alert_env(alert), timeout=timeout)
        result.pop("output", None)
        return {"kind": kind, "target": " ".join(sink["argv"])[:300], **result}
    summary = {"rule": alert["rule"], "subject": alert["subject"], "severity": alert["severity"]}
    uow.audit("alert.notify", "alert", alert["id"], alert, summary)
    return {"kind": kind, "target": "audit", "ok": True}


def notify(
    uow: UnitOfWork, alert: dict[str, Any], sinks: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    return [deliver(uow, alert, sink) for sink in sinks]
