"""SDK verbs: experiments and runs."""

from __future__ import annotations

from modelward.client.base import ClientBase
from modelward.tracking.schemas import ExperimentCreate, ExperimentPublic


class TrackingAPI(ClientBase):
    def create_experiment(self, name: str, description: str = "") -> ExperimentPublic:
        """Create an experiment."""
        body = self._model(ExperimentCreate, name=name, description=description)
        return self._call("create_experiment", body=body)  # type: ignore[no-any-return]

    def get_experiment(self, name: str) -> ExperimentPublic:
        """One experiment by name."""
        return self._call("get_experiment", name=name)  # type: ignore[no-any-return]

    def list_experiments(self) -> list[ExperimentPublic]:
        """Every experiment."""
        return self._call("list_experiments")  # type: ignore[no-any-return]
