"""Evaluation service verbs: evaluate or explain a version on a dataset version, read results.

Evaluation and explanation are long operations: the model and data are read and scored in a
read transaction, and the immutable result is recorded with its audit event in a short write
transaction afterwards, so nobody else's writes wait for the scoring.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from modelward import progress
from modelward.auth.roles import Role
from modelward.datasets.service import resolve_dataset_version
from modelward.datasets.tables import DatasetVersion
from modelward.errors import InvalidInput, NotFound
from modelward.evaluation.inputs import (
    check_fits,
    code_version,
    load_frame,
    load_model,
    signature_features,
)
from modelward.evaluation.schemas import (
    EvaluationPublic,
    EvaluationRequest,
    ExplanationPublic,
    ExplanationRequest,
)
from modelward.evaluation.tables import Evaluation, Explanation
from modelward.operations import operation
from modelward.registry.references import resolve_version
from modelward.registry.tables import ModelVersion
from modelward.registry.writing import lock_writes, stored_now
from modelward.uow import UnitOfWork


def evaluation_public(row: Evaluation, uow: UnitOfWork) -> EvaluationPublic:
    version = uow.session.get_one(ModelVersion, row.version_id)
    dataset = uow.session.get_one(DatasetVersion, row.dataset_version_id)
    against = (
        uow.session.get_one(ModelVersion, row.against_version_id).version
        if row.against_version_id
        else None
    )
    return EvaluationPublic(
        id=row.id,
        model=version.model.name,
        version=version.version,
        model_digest=row.model_digest,
        dataset=dataset.ref,
        dataset_digest=row.dataset_digest,
        name=row.name,
        task=row.task,
        against_version=against,
        config=row.config,
        results=row.results,
        code_version=row.code_version,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def explanation_public(row: Explanation, uow: UnitOfWork) -> ExplanationPublic:
    version = uow.session.get_one(ModelVersion, row.version_id)
    dataset = uow.session.get_one(DatasetVersion, row.dataset_version_id)
    return ExplanationPublic(
        id=row.id,
        model=version.model.name,
        version=version.version,
        model_digest=row.model_digest,
        dataset=dataset.ref,
        dataset_digest=row.dataset_digest,
        method=row.method,
        config=row.config,
        results=row.results,
        code_version=row.code_version,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def _against(uow: UnitOfWork, version: ModelVersion, against: str | None) -> ModelVersion | None:
    """``champion`` is an alias of the same model; ``name/2`` or ``name@alias`` any version."""
    if against is None:
        return None
    ref = against if ("@" in against or "/" in against) else f"{version.model.name}@{against}"
    other = resolve_version(uow.session, ref, field="against")
    if other.id == version.id:
        raise InvalidInput(
            f"against: {against} is the version being evaluated ({ref})", field="against"
        )
    return other


@operation(
    "POST",
    "/api/v1/model-versions/{ref:path}/evaluations",
    role=Role.developer,
    long=True,
    status_code=201,
)
def evaluate_version(uow: UnitOfWork, ref: str, body: EvaluationRequest) -> EvaluationPublic:
    """Score a version on a dataset version and store the immutable evaluation evidence."""
    from modelward.evaluation.compute import run_evaluation

    version = resolve_version(uow.session, ref)
    dataset = resolve_dataset_version(uow.session, body.dataset)
    champion = _against(uow, version, body.against)
    frame = load_frame(uow, dataset)
    check_fits(
        frame,
        version,
        dataset,
        {"target": [body.target], "slice_by": body.slice_by, "sensitive": body.sensitive},
    )
    if champion is not None:
        check_fits(frame, champion, dataset, {})
    results = run_evaluation(
        load_model(uow, version),
        frame,
        body.target,
        features=signature_features(version),
        task=body.task,
        slice_by=body.slice_by,
        sensitive=body.sensitive,
        against=load_model(uow, champion) if champion is not None else None,
        against_features=signature_features(champion) if champion is not None else None,
        bootstrap=body.bootstrap,
        seed=body.seed,
        threshold=body.threshold,
        progress=progress.current(),
    )
    row = Evaluation(
        id=uuid.uuid4().hex,
        version_id=version.id,
        model_digest=version.digest,
        dataset_version_id=dataset.id,
        dataset_digest=dataset.digest,
        name=body.name,
        task=results["task"],
        against_version_id=champion.id if champion is not None else None,
        config=body.model_dump(mode="json"),
        results=results,
        code_version=code_version(),
        created_by=uow.actor,
        created_at=stored_now(),
    )
    with uow.write_phase() as w:
        lock_writes(w)
        w.session.add(row)
        w.session.flush()
        out = evaluation_public(row, w)
        summary = {"ref": out.model + f"/{out.version}", "name": out.name, "dataset": out.dataset}
        w.audit("evaluation.create", "evaluation", row.id, out.model_dump(mode="json"), summary)
    return out


@operation(
    "POST",
    "/api/v1/model-versions/{ref:path}/explanations",
    role=Role.developer,
    long=True,
    status_code=201,
)
def explain_version(uow: UnitOfWork, ref: str, body: ExplanationRequest) -> ExplanationPublic:
    """Global feature importance of a version on a dataset version, stored as evidence."""
    from modelward.evaluation.compute import run_explanation

    version = resolve_version(uow.session, ref)
    dataset = resolve_dataset_version(uow.session, body.dataset)
    frame = load_frame(uow, dataset)
    check_fits(frame, version, dataset, {"target": [body.target]})
    results = run_explanation(
        load_model(uow, version),
        frame,
        body.target,
        features=signature_features(version),
        method=body.method,
        sample=body.sample,
        n_repeats=body.n_repeats,
        seed=body.seed,
        progress=progress.current(),
    )
    row = Explanation(
        id=uuid.uuid4().hex,
        version_id=version.id,
        model_digest=version.digest,
        dataset_version_id=dataset.id,
        dataset_digest=dataset.digest,
        method=results["method"],
        config=body.model_dump(mode="json"),
        results=results,
        code_version=code_version(),
        created_by=uow.actor,
        created_at=stored_now(),
    )
    with uow.write_phase() as w:
        lock_writes(w)
        w.session.add(row)
        w.session.flush()
        out = explanation_public(row, w)
        summary = {
            "ref": out.model + f"/{out.version}",
            "method": out.method,
            "dataset": out.dataset,
        }
        w.audit("explanation.create", "explanation", row.id, out.model_dump(mode="json"), summary)
    return out


@operation("GET", "/api/v1/model-versions/{ref:path}/evaluations")
def list_evaluations(uow: UnitOfWork, ref: str, name: str | None = None) -> list[EvaluationPublic]:
    """A version's evaluations, newest first."""
    version = resolve_version(uow.session, ref)
    query = select(Evaluation).where(Evaluation.version_id == version.id)
    if name is not None:
        query = query.where(Evaluation.name == name)
    rows = uow.session.scalars(query.order_by(Evaluation.created_at.desc(), Evaluation.id))
    return [evaluation_public(r, uow) for r in rows]


@operation("GET", "/api/v1/evaluations/{evaluation_id}")
def get_evaluation(uow: UnitOfWork, evaluation_id: str) -> EvaluationPublic:
    row = uow.session.get(Evaluation, evaluation_id)
    if row is None:
        raise NotFound(f"no evaluation {evaluation_id!r}", field="evaluation_id")
    return evaluation_public(row, uow)


@operation("GET", "/api/v1/model-versions/{ref:path}/explanations")
def list_explanations(uow: UnitOfWork, ref: str) -> list[ExplanationPublic]:
    """A version's explanations, newest first."""
    version = resolve_version(uow.session, ref)
    query = select(Explanation).where(Explanation.version_id == version.id)
    rows = uow.session.scalars(query.order_by(Explanation.created_at.desc(), Explanation.id))
    return [explanation_public(r, uow) for r in rows]
