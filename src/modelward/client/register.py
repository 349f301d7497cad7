"""SDK verbs: the AI register — systems, their models, data and incidents, and export."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from modelward.client.base import ClientBase
from modelward.errors import InvalidInput
from modelward.governance.register_schemas import (
    AliasInterval,
    IncidentCreate,
    IncidentPublic,
    SystemCreate,
    SystemPublic,
    SystemUpdate,
)
from modelward.validation import check_name

EXPORT_FORMATS = ("csv", "json")
# One row per system; list columns are joined with ";" in CSV.
EXPORT_COLUMNS = (
    "name",
    "risk_tier",
    "tier_rationale",
    "status",
    "purpose",
    "business_owner",
    "technical_owner",
    "decision_type",
    "human_in_the_loop",
    "affected_people",
    "regulatory_tags",
    "limitations",
    "production_alias",
    "models",
    "in_production",
    "datasets",
    "open_incidents",
    "created_by",
    "created_at",
    "updated_by",
    "updated_at",
)


def export_row(system: SystemPublic) -> dict[str, Any]:
    """A system as one flat register row (lists stay lists; CSV joins them)."""
    data = system.model_dump(mode="json")
    row = {c: data.get(c) for c in EXPORT_COLUMNS}
    row["models"] = [m.name for m in system.models]
    row["in_production"] = [
        f"{m.name}/{m.production_version}"
        for m in system.models
        if m.production_version is not None
    ]
    row["datasets"] = [d.ref for d in system.datasets]
    return row


def _csv_cell(value: Any) -> Any:
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _dataset_ref(dataset: str, version: int | None) -> tuple[str, int]:
    from modelward.datasets.service import parse_dataset_ref

    name, number = parse_dataset_ref(dataset)
    if version is not None and number is not None and version != number:
        raise InvalidInput(
            f"dataset {dataset!r} names version {number} but version={version} was given",
            field="version",
        )
    number = number if version is None else version
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise InvalidInput(
            f"dataset {dataset!r}: give the version to link, e.g. {name}/3", field="version"
        )
    return name, number


class RegisterAPI(ClientBase):
    # ------------------------------------------------------------ systems

    def create_system(
        self,
        name: str,
        *,
        risk_tier: str,
        tier_rationale: str = "",
        purpose: str = "",
        business_owner: str = "",
        technical_owner: str = "",
        decision_type: str = "advisory",
        human_in_the_loop: bool = False,
        affected_people: str = "",
        regulatory_tags: Iterable[str] = (),
        limitations: str = "",
        status: str = "proposed",
        production_alias: str = "champion",
        models: Iterable[str] = (),
        datasets: Iterable[str] = (),
    ) -> SystemPublic:
        """Enter an AI system in the register.

        Parameters
        ----------
        risk_tier:
            ``low``, ``medium``, ``high`` or ``critical``; ``high`` and ``critical`` need a
            ``tier_rationale``.
        regulatory_tags:
            ``SCHEME:REF`` or ``SCHEME`` strings, e.g. ``EU-AI-Act:Annex-III``, ``SR-11-7``.
        models:
            Registered model names to attach (a model belongs to at most one system).
        datasets:
            Dataset versions the system was built from or scores, e.g. ``credit-train/2``.
        """
        body = self._model(
            SystemCreate,
            name=name,
            risk_tier=risk_tier,
            tier_rationale=tier_rationale,
            purpose=purpose,
            business_owner=business_owner,
            technical_owner=technical_owner,
            decision_type=decision_type,
            human_in_the_loop=human_in_the_loop,
            affected_people=affected_people,
            regulatory_tags=list(regulatory_tags),
            limitations=limitations,
            status=status,
            production_alias=production_alias,
            models=list(models),
            datasets=list(datasets),
        )
        return self._call("create_system", body=body)  # type: ignore[no-any-return]

    def get_system(self, name: str) -> SystemPublic:
        """One system with its models, data sources, incidents and latest evaluations."""
        check_name(name, "name")
        return self._call("get_system", name=name)  # type: ignore[no-any-return]

    def list_systems(
        self,
        *,
        risk_tier: str | None = None,
        status: str | None = None,
        owner: str | None = None,
        regulatory_tag: str | None = None,
        model: str | None = None,
    ) -> list[SystemPublic]:
        """Systems matching every given filter; ``owner`` matches business or technical."""
        if model is not None:
            check_name(model, "model")
        return self._call(  # type: ignore[no-any-return]
            "list_systems",
            risk_tier=risk_tier,
            status=status,
            owner=owner,
            regulatory_tag=regulatory_tag,
            model=model,
        )

    def update_system(self, name: str, **fields: Any) -> SystemPublic:
        """Change the given fields; ``regulatory_tags`` replaces the list. Changing
        ``risk_tier`` needs the approver role."""
        check_name(name, "name")
        body = self._model(SystemUpdate, **fields)
        return self._call("update_system", name=name, body=body)  # type: ignore[no-any-return]

    # ------------------------------------------------------------ models and data

    def attach_model(self, name: str, model: str) -> SystemPublic:
        """Make registered model ``model`` part of system ``name``."""
        check_name(name, "name")
        check_name(model, "model")
        return self._call("attach_model", name=name, model=model)  # type: ignore[no-any-return]

    def detach_model(self, name: str, model: str) -> SystemPublic:
        """Take ``model`` out of system ``name``."""
        check_name(name, "name")
        check_name(model, "model")
        return self._call("detach_model", name=name, model=model)  # type: ignore[no-any-return]

    def link_dataset(self, name: str, dataset: str, version: int | None = None) -> SystemPublic:
        """Record a dataset version (``credit-train/2``, or a name and ``version``) as a
        data source of system ``name``."""
        check_name(name, "name")
        dataset, number = _dataset_ref(dataset, version)
        return self._call(  # type: ignore[no-any-return]
            "link_dataset", name=name, dataset=dataset, version=number
        )

    def unlink_dataset(self, name: str, dataset: str, version: int | None = None) -> SystemPublic:
        """Remove a dataset version from the data sources of system ``name``."""
        check_name(name, "name")
        dataset, number = _dataset_ref(dataset, version)
        return self._call(  # type: ignore[no-any-return]
            "unlink_dataset", name=name, dataset=dataset, version=number
        )

    # ------------------------------------------------------------ incidents

    def report_incident(
        self,
        name: str,
        *,
        title: str,
        severity: str,
        occurred_at: str | datetime | None = None,
        description: str = "",
    ) -> IncidentPublic:
        """Record an incident of system ``name`` (``occurred_at`` defaults to now)."""
        check_name(name, "name")
        body = self._model(
            IncidentCreate,
            title=title,
            severity=severity,
            occurred_at=occurred_at if occurred_at is not None else datetime.now(UTC),
            description=description,
        )
        return self._call("report_incident", name=name, body=body)  # type: ignore[no-any-return]

    def resolve_incident(self, name: str, incident_id: int) -> IncidentPublic:
        """Close an open incident of system ``name``."""
        check_name(name, "name")
        if isinstance(incident_id, bool) or not isinstance(incident_id, int) or incident_id < 1:
            raise InvalidInput(
                f"incident_id must be a positive whole number, not {incident_id!r}",
                field="incident_id",
            )
        return self._call(  # type: ignore[no-any-return]
            "resolve_incident", name=name, incident_id=incident_id
        )

    # ------------------------------------------------------------ history and export

    def system_history(self, name: str, at: str | datetime | None = None) -> list[AliasInterval]:
        """Which version each model's production alias pointed at.

        With ``at`` (ISO 8601 date or date-time, or a datetime; no zone means UTC), one
        interval per model: the one containing that instant. Without it, every interval.
        """
        check_name(name, "name")
        when = at.isoformat() if isinstance(at, datetime) else at
        return self._call("system_history", name=name, at=when)  # type: ignore[no-any-return]

    def export_register(self, path: str | Path, format: str = "csv") -> int:
        """Write the whole register to ``path`` as CSV or JSON, one row per system; returns
        how many systems were written."""
        if format not in EXPORT_FORMATS:
            raise InvalidInput(
                f"format: {format!r} is not one of {', '.join(EXPORT_FORMATS)}", field="format"
            )
        rows = [export_row(s) for s in self.list_systems()]
        with open(path, "w", encoding="utf-8", newline="") as out:
            if format == "json":
                json.dump(rows, out, indent=2, ensure_ascii=False)
                out.write("\n")
            else:
                writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS)
                writer.writeheader()
                writer.writerows({k: _csv_cell(v) for k, v in r.items()} for r in rows)
        return len(rows)
