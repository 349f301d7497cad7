"""Canary analysis against the store: merge what every gateway replica observed in the
current step, judge challenger against primary, and act on the verdict.

Acting is idempotent across replicas: each decision re-reads the plan under the writers'
lock and acts only if the plan is still the current one at the same step.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from modelward.monitoring.tables import Endpoint, PredictionSegment
from modelward.registry.writing import lock_writes, stored_now
from modelward.serving.analysis import Quality, Thresholds, Verdict, judge
from modelward.serving.arm_stats import ArmStats
from modelward.serving.plan_schemas import ArmSummary
from modelward.serving.tables import ServingStat, TrafficPlan
from modelward.uow import UnitOfWork

log = logging.getLogger("modelward.serving")
ARMS = ("primary", "challenger")
SHADOW_SUFFIX = "#shadow"


def step_stats(uow: UnitOfWork, plan: TrafficPlan) -> dict[str, ArmStats]:
    """Every replica's statistics of the plan's current step, merged per arm."""
    merged = {arm: ArmStats() for arm in ARMS}
    query = select(ServingStat.arm, ServingStat.stats).where(
        ServingStat.plan_id == plan.id, ServingStat.step_index == plan.step_index
    )
    for arm, stats in uow.session.execute(query):
        if arm in merged:
            merged[arm].merge(ArmStats.from_json(stats))
    return merged


def arm_summaries(uow: UnitOfWork, plan: TrafficPlan) -> list[ArmSummary]:
    from modelward.serving.plans import version_ref

    stats = step_stats(uow, plan)
    out = []
    for arm in ARMS:
        version_id = plan.primary_version_id if arm == "primary" else plan.challenger_version_id
        if version_id is None:
            continue
        s = stats[arm]
        out.append(
            ArmSummary(
                arm=arm,
                version=version_ref(uow.session, version_id) or "",
                requests=s.requests,
                errors=s.errors,
                error_rate=s.error_rate(),
                latency_p50_ms=s.latency_quantile(0.5),
                latency_p95_ms=s.latency_quantile(0.95),
                latency_p99_ms=s.latency_quantile(0.99),
            )
        )
    return out


def judge_plan(uow: UnitOfWork, endpoint: Endpoint, plan: TrafficPlan) -> Verdict:
    stats = step_stats(uow, plan)
    thresholds = Thresholds.from_dict(plan.thresholds or None)
    quality = step_quality(uow, endpoint, plan)
    return judge(stats["primary"], stats["challenger"], thresholds, quality)


# ------------------------------------------------------------------ quality from labels


def step_quality(uow: UnitOfWork, endpoint: Endpoint, plan: TrafficPlan) -> Quality | None:
    """Each arm's quality on the predictions it made in this step that have labels now."""
    import numpy as np

    from modelward.monitoring.labels import labels_for
    from modelward.monitoring.prediction_log import ID, PREDICTION, TS, decode_segment

    since = int(plan.step_started_at.timestamp() * 1000)
    arms = {plan.primary_version_id: "primary", plan.challenger_version_id: "challenger"}
    query = select(PredictionSegment).where(
        PredictionSegment.endpoint_id == endpoint.id,
        PredictionSegment.max_ts_ms >= since,
        PredictionSegment.version_id.in_([v for v in arms if v is not None]),
    )
    pairs: dict[str, list[tuple[Any, Any]]] = {"primary": [], "challenger": []}
    for segment in uow.session.scalars(query):
        frame = decode_segment(
            uow.artifacts.get_bytes(segment.digest, "segment"), [ID, TS, PREDICTION]
        )
        frame = frame[frame[TS].to_numpy() >= since]
        if not len(frame):
            continue
        ids = [str(i).removesuffix(SHADOW_SUFFIX) for i in frame[ID]]
        labels = labels_for(uow.session, endpoint.id, ids)
        arm = arms[segment.version_id]
        for pid, prediction in zip(ids, frame[PREDICTION], strict=True):
            if pid in labels:
                pairs[arm].append((prediction, labels[pid][0]))
    if not pairs["primary"] and not pairs["challenger"]:
        return None
    numeric = all(
        isinstance(p, float) and not float(p).is_integer() for p, _ in pairs["primary"][:50]
    ) and bool(pairs["primary"])

    def score(rows: list[tuple[Any, Any]]) -> float | None:
        if not rows:
            return None
        if numeric:
            err = np.array([float(p) - float(y) for p, y in rows])
            return float(np.sqrt(np.mean(err**2)))
        return float(np.mean([str(p) == str(y) for p, y in rows]))

    return Quality(
        metric="rmse" if numeric else "accuracy",
        higher_is_better=not numeric,
        primary=score(pairs["primary"]),
        challenger=score(pairs["challenger"]),
        primary_n=len(pairs["primary"]),
        challenger_n=len(pairs["challenger"]),
    )


# ------------------------------------------------------------------ acting on a verdict


def analyse_endpoint(uow: UnitOfWork, endpoint_name: str) -> str | None:
    """Judge the endpoint's running canary or shadow and act; what was done, if anything."""
    from modelward.monitoring.endpoints import get_endpoint_row
    from modelward.serving.plans import current_plan, step_due

    lock_writes(uow)
    endpoint = get_endpoint_row(uow.session, endpoint_name)
    plan = current_plan(uow.session, endpoint)
    if plan is None or plan.kind not in ("canary", "shadow") or not plan.auto:
        return None
    verdict = judge_plan(uow, endpoint, plan)
    now_ms = int(stored_now().timestamp() * 1000)
    if verdict.outcome == "fail":
        return _auto_rollback(uow, endpoint, plan, verdict)
    if verdict.outcome == "pass" and step_due(plan, now_ms):
        return _advance(uow, endpoint, plan, verdict)
    previous = (plan.verdict or {}).get("outcome")
    if previous != verdict.outcome:
        plan.verdict = verdict.to_dict()
        _audit(
            uow, "endpoint.analysis", endpoint, plan, outcome=verdict.outcome, why=verdict.reason
        )
        return f"analysis {verdict.outcome}: {verdict.reason}"
    return None


def _audit(
    uow: UnitOfWork, action: str, endpoint: Endpoint, plan: TrafficPlan, **summary: Any
) -> None:
    from modelward.serving.plans import plan_public

    uow.session.flush()
    state = plan_public(uow.session, endpoint, plan).model_dump(mode="json")
    uow.audit(
        action,
        "endpoint",
        endpoint.name,
        state,
        {"seq": plan.seq, "step": plan.step_index, **summary},
    )


def _advance(uow: UnitOfWork, endpoint: Endpoint, plan: TrafficPlan, verdict: Verdict) -> str:
    """Step up; after the last step a canary's challenger becomes the primary."""
    from modelward.serving.plans import install_plan

    plan.verdict = verdict.to_dict()
    steps = list(plan.steps or [])
    # A step at 100% leaves no primary traffic to compare with: reaching it is completion.
    following = steps[plan.step_index + 1] if plan.step_index + 1 < len(steps) else 100.0
    if plan.kind == "canary" and following < 100:
        plan.step_index += 1
        plan.share = steps[plan.step_index]
        plan.step_started_at = stored_now()
        _audit(uow, "endpoint.canary_step", endpoint, plan, share=plan.share, why=verdict.reason)
        return f"canary stepped up to {plan.share:g}%"
    if plan.kind == "shadow":
        if plan.state == "active" and (plan.verdict or {}).get("final"):
            return ""
        plan.verdict = {**verdict.to_dict(), "final": True}
        _audit(uow, "endpoint.analysis", endpoint, plan, outcome="pass", why="shadow passed")
        return "shadow passed; promote it with a canary or a single plan"
    challenger = plan.challenger_version_id
    done = TrafficPlan(kind="single", primary_version_id=challenger, share=0.0)
    done.steps, done.thresholds = [], {}
    done.reason = f"canary {plan.seq} completed: the challenger passed every step"
    install_plan(uow, endpoint, done, ending="completed")
    _audit(uow, "endpoint.canary_complete", endpoint, done, from_seq=plan.seq)
    return "canary completed: the challenger now serves all traffic"


def _auto_rollback(uow: UnitOfWork, endpoint: Endpoint, plan: TrafficPlan, verdict: Verdict) -> str:
    from modelward.serving.plans import install_plan, reinstated, version_ref

    plan.verdict = verdict.to_dict()
    back = reinstated(plan)
    back.kind, back.challenger_version_id, back.key_field = "single", None, None
    back.steps, back.share = [], 0.0
    back.reason = f"automatic rollback of plan {plan.seq}: {verdict.reason}"
    install_plan(uow, endpoint, back, ending="rolled_back")
    _audit(uow, "endpoint.auto_rollback", endpoint, back, from_seq=plan.seq, why=verdict.reason)
    challenger = version_ref(uow.session, plan.challenger_version_id)
    _open_incident(uow, endpoint, f"{plan.kind} of {challenger} rolled back", verdict.reason)
    return f"rolled back: {verdict.reason}"


def _open_incident(uow: UnitOfWork, endpoint: Endpoint, title: str, why: str) -> None:
    """An incident on the endpoint's AI system; without one, the audit event is the record."""
    from modelward.governance.register import open_incident, system_for_model

    system = system_for_model(uow.session, endpoint.model_id)
    if system is not None:
        open_incident(uow, system, f"endpoint {endpoint.name}: {title}"[:300], why, "high")
