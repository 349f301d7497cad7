"""The SDK's evaluation verbs: evaluate and explain versions on registered datasets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from modelward.client.base import ClientBase
from modelward.client.registry import ModelVersion, _ref
from modelward.evaluation.schemas import (
    EvaluationPublic,
    EvaluationRequest,
    ExplanationPublic,
    ExplanationRequest,
)


def _dataset_ref(dataset: Any) -> Any:
    ref = getattr(dataset, "ref", None)  # a DatasetVersion object
    return ref if isinstance(ref, str) else dataset


class EvaluationAPI(ClientBase):
    def evaluate(
        self,
        ref: str | ModelVersion,
        *,
        dataset: Any,
        target: str,
        name: str = "holdout",
        against: str | None = None,
        slice_by: Sequence[str] = (),
        sensitive: Sequence[str] = (),
        task: str | None = None,
        bootstrap: int = 1000,
        seed: int = 0,
        threshold: float = 0.5,
    ) -> EvaluationPublic:
        """Score a version on a registered dataset version and store the evaluation.

        ``dataset`` is ``"name"``, ``"name@latest"``, ``"name/3"`` or a DatasetVersion.
        ``against`` compares with another version (an alias of the same model such as
        ``"champion"``, or ``"name/2"``): deltas with paired-bootstrap 95% intervals.
        ``sensitive`` columns get Fairlearn fairness metrics; ``slice_by`` per-value metrics.
        """
        body = self._model(
            EvaluationRequest,
            dataset=_dataset_ref(dataset),
            target=target,
            name=name,
            against=against,
            slice_by=list(slice_by),
            sensitive=list(sensitive),
            task=task,
            bootstrap=bootstrap,
            seed=seed,
            threshold=threshold,
        )
        return self._call("evaluate_version", ref=_ref(ref), body=body)  # type: ignore[no-any-return]

    def explain(
        self,
        ref: str | ModelVersion,
        *,
        dataset: Any,
        target: str,
        method: str = "auto",
        sample: int = 2000,
        n_repeats: int = 5,
        seed: int = 0,
    ) -> ExplanationPublic:
        """Global feature importance (permutation, or SHAP when installed), stored as evidence."""
        body = self._model(
            ExplanationRequest,
            dataset=_dataset_ref(dataset),
            target=target,
            method=method,
            sample=sample,
            n_repeats=n_repeats,
            seed=seed,
        )
        return self._call("explain_version", ref=_ref(ref), body=body)  # type: ignore[no-any-return]

    def list_evaluations(
        self, ref: str | ModelVersion, name: str | None = None
    ) -> list[EvaluationPublic]:
        """A version's evaluations, newest first."""
        return self._call("list_evaluations", ref=_ref(ref), name=name)  # type: ignore[no-any-return]

    def get_evaluation(self, evaluation_id: str) -> EvaluationPublic:
        return self._call("get_evaluation", evaluation_id=evaluation_id)  # type: ignore[no-any-return]

    def list_explanations(self, ref: str | ModelVersion) -> list[ExplanationPublic]:
        return self._call("list_explanations", ref=_ref(ref))  # type: ignore[no-any-return]
