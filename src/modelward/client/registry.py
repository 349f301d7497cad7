"""SDK verbs: the model registry (models, versions, aliases, tags, loading, lineage)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modelward.client.base import ClientBase, invalid_from_pydantic
from modelward.errors import IntegrityError, InvalidInput
from modelward.registry.lineage import DatasetLineage, VersionLineage
from modelward.registry.references import check_alias, parse_model_ref
from modelward.registry.schemas import (
    AliasPublic,
    AliasSet,
    ModelVersionCreate,
    ModelVersionPublic,
    RegisteredModelCreate,
    RegisteredModelPublic,
    RegisteredModelUpdate,
    TagSet,
)
from modelward.registry.signature import ModelSignature
from modelward.validation import check_name


class ModelVersion:
    """One immutable model version, as the registry describes it.

    ``info`` holds every field; the common ones are attributes. Fetch what depends on
    other records (``lineage()``) or on the artifact (``load()``) through the client.
    """

    def __init__(self, client: RegistryAPI, info: ModelVersionPublic) -> None:
        self._client = client
        self.info = info

    name = property(lambda self: self.info.name)
    version = property(lambda self: self.info.version)
    ref = property(lambda self: self.info.ref)
    digest = property(lambda self: self.info.digest)
    flavor = property(lambda self: self.info.flavor)
    run_id = property(lambda self: self.info.run_id)
    aliases = property(lambda self: self.info.aliases)
    status = property(lambda self: self.info.status)
    tags = property(lambda self: self.info.tags)
    signature = property(lambda self: self.info.signature)

    def __getattr__(self, item: str) -> Any:
        # Every other field of the version (size, parent, trusted, created_at, …).
        if item.startswith("_") or item == "info":
            raise AttributeError(item)
        try:
            return getattr(self.info, item)
        except AttributeError:
            raise AttributeError(f"ModelVersion has no attribute {item!r}") from None

    def lineage(self) -> VersionLineage:
        """Where this version came from: run, datasets, code commit, parents, aliases."""
        return self._client.get_version_lineage(self.ref)

    def load(self, dst: str | Path | None = None) -> Any:
        """The model object (or, for the ``files`` flavor, a path), digest verified."""
        return self._client._load_version(self.info, dst)

    def refresh(self) -> ModelVersion:
        """This version as stored now (tags, aliases and status can change)."""
        return self._client.get_version(self.ref)

    def __repr__(self) -> str:
        aliases = f" aliases={self.aliases}" if self.aliases else ""
        return f"<ModelVersion {self.ref} {self.flavor} sha256:{self.digest[:12]}{aliases}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ModelVersion) and other.info == self.info

    __hash__ = None  # type: ignore[assignment]


def _ref(ref: Any, field: str = "ref") -> str:
    if isinstance(ref, ModelVersion):
        return str(ref.ref)
    return str(parse_model_ref(ref, field))


class RegistryAPI(ClientBase):
    # ------------------------------------------------------------ registered models

    def create_registered_model(
        self,
        name: str,
        description: str = "",
        owner: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> RegisteredModelPublic:
        """Register a model name (creating a version also creates it when missing)."""
        body = self._model(
            RegisteredModelCreate, name=name, description=description, owner=owner, tags=tags or {}
        )
        return self._call("create_registered_model", body=body)  # type: ignore[no-any-return]

    def get_registered_model(self, name: str) -> RegisteredModelPublic:
        """One registered model with its tags and aliases."""
        check_name(name, "name")
        return self._call("get_registered_model", name=name)  # type: ignore[no-any-return]

    def list_registered_models(self) -> list[RegisteredModelPublic]:
        """Every registered model."""
        return self._call("list_registered_models")  # type: ignore[no-any-return]

    def update_registered_model(
        self,
        name: str,
        description: str | None = None,
        owner: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> RegisteredModelPublic:
        """Change the description or owner, or set tags; what is not given stays."""
        check_name(name, "name")
        body = self._model(RegisteredModelUpdate, description=description, owner=owner, tags=tags)
        return self._call("update_registered_model", name=name, body=body)  # type: ignore[no-any-return]

    def delete_model_tag(self, name: str, key: str) -> RegisteredModelPublic:
        """Remove a tag from a registered model."""
        check_name(name, "name")
        return self._call("delete_model_tag", name=name, key=key)  # type: ignore[no-any-return]

    # ------------------------------------------------------------ versions

    def create_model_version(
        self,
        name: str,
        model: Any,
        *,
        run_id: str | None = None,
        signature: ModelSignature | dict[str, Any] | None = None,
        flavor: str | None = None,
        trusted: bool = False,
        parent: ModelVersion | str | int | None = None,
        description: str = "",
        tags: dict[str, str] | None = None,
    ) -> ModelVersion:
        """Save ``model`` with its flavor, upload it and register it as the next version.

        Parameters
        ----------
        name:
            The registered model; created on its first version.
        model:
            A scikit-learn estimator (saved with skops), a path (``files`` flavor), or any
            object with ``flavor="pickle"`` / ``"joblib"`` and ``trusted=True``.
        signature:
            Input and output columns, e.g. ``modelward.infer_signature(X, y)``.
        parent:
            The version this one derives from: a version object, a reference, or a
            version number of the same model.
        """
        from modelward.registry.flavors import detect_flavor, get_flavor

        check_name(name, "name")
        flavor_name = flavor or detect_flavor(model)
        saver = get_flavor(flavor_name)
        if saver.executes_code and not trusted:
            raise InvalidInput(
                f"flavor {flavor_name!r} can run arbitrary code when loaded; pass trusted=True "
                "to register it (recorded on the version)",
                field="trusted",
            )
        fields = {
            "flavor": flavor_name,
            "signature": _signature(signature),
            "run_id": run_id,
            "parent": _parent(name, parent),
            "trusted": trusted,
            "description": description,
            "tags": tags or {},
        }
        # Validate everything before spending time on serialising and uploading.
        self._model(ModelVersionCreate, digest="0" * 64, size=0, **fields)
        data, meta = saver.save(model, trusted=trusted)
        digest = self._transport.put_artifact(data)
        body = self._model(
            ModelVersionCreate, digest=digest, size=len(data), flavor_meta=meta, **fields
        )
        info = self._call("create_model_version", name=name, body=body)
        return ModelVersion(self, info)

    def get_version(self, ref: str) -> ModelVersion:
        """The version ``ref`` points at: ``name`` (latest), ``name/3`` or ``name@alias``."""
        return ModelVersion(self, self._call("get_model_version", ref=_ref(ref)))

    def list_versions(self, name: str, include_archived: bool = True) -> list[ModelVersion]:
        """A model's versions, newest first."""
        check_name(name, "name")
        infos = self._call("list_model_versions", name=name, include_archived=include_archived)
        return [ModelVersion(self, i) for i in infos]

    def set_version_tag(self, ref: str, key: str, value: str) -> ModelVersion:
        """Set one tag on a version (tags are the only mutable part of a version)."""
        body = self._model(TagSet, key=key, value=value)
        return ModelVersion(self, self._call("set_model_version_tag", ref=_ref(ref), body=body))

    def delete_version_tag(self, ref: str, key: str) -> ModelVersion:
        """Remove one tag from a version."""
        return ModelVersion(self, self._call("delete_model_version_tag", ref=_ref(ref), key=key))

    def archive_version(self, ref: str) -> ModelVersion:
        """Archive a version: kept for lineage and audit, skipped as "latest"."""
        return ModelVersion(self, self._call("archive_model_version", ref=_ref(ref)))

    def restore_version(self, ref: str) -> ModelVersion:
        """Make an archived version active again."""
        return ModelVersion(self, self._call("restore_model_version", ref=_ref(ref)))

    def delete_version(self, ref: str) -> ModelVersion:
        """Delete a version; refused while an alias points at it or a version descends from it."""
        return ModelVersion(self, self._call("delete_model_version", ref=_ref(ref)))

    # ------------------------------------------------------------ aliases

    def set_alias(
        self, name: str, alias: str, version: int | ModelVersion, *, override: str | None = None
    ) -> AliasPublic:
        """Point ``alias`` at ``version`` of model ``name`` (an audited move).

        When policies guard the alias the move must pass them, or ``PolicyDenied`` is raised
        with every rule's outcome in ``exc.details["gate"]``. An admin may pass ``override``,
        a written justification, to move anyway; the override is audited as such.
        """
        check_name(name, "name")
        check_alias(alias)
        number = version.version if isinstance(version, ModelVersion) else version
        if isinstance(number, str) and number.isdigit():
            number = int(number)
        if not isinstance(number, int) or isinstance(number, bool):
            raise InvalidInput(f"version must be a version number, not {number!r}", field="version")
        body = self._model(AliasSet, version=number, override=override)
        return self._call("set_alias", name=name, alias=alias, body=body)  # type: ignore[no-any-return]

    def delete_alias(self, name: str, alias: str) -> AliasPublic:
        """Remove an alias (the version stays)."""
        check_name(name, "name")
        check_alias(alias)
        return self._call("delete_alias", name=name, alias=alias)  # type: ignore[no-any-return]

    def list_aliases(self, name: str) -> list[AliasPublic]:
        """A model's aliases and the versions they point at."""
        check_name(name, "name")
        return self._call("list_aliases", name=name)  # type: ignore[no-any-return]

    # ------------------------------------------------------------ loading and lineage

    def load_model(self, ref: str, dst: str | Path | None = None) -> Any:
        """Download a version's artifact, verify its digest and load it with its flavor."""
        return self.get_version(ref).load(dst)

    def _load_version(self, info: ModelVersionPublic, dst: str | Path | None) -> Any:
        from modelward.registry.flavors import get_flavor

        label = f"model version {info.ref}"
        try:
            data = self._transport.get_artifact(info.digest, label)
        except IntegrityError as exc:
            if label in exc.message:
                raise
            raise IntegrityError(
                f"{label}: {exc.message}", field=exc.field, **exc.details
            ) from None
        loader = get_flavor(info.flavor)
        return loader.load(data, info.flavor_meta, trusted=info.trusted, dst=_path(dst))

    def get_version_lineage(self, ref: str) -> VersionLineage:
        """A version's run, datasets, code commit, parent chain and aliases."""
        return self._call("get_version_lineage", ref=_ref(ref))  # type: ignore[no-any-return]

    def get_dataset_lineage(self, ref: str) -> DatasetLineage:
        """Every model version trained or evaluated on a dataset version (``name/2``, ``name``)."""
        if not isinstance(ref, str) or not ref:
            raise InvalidInput("a dataset reference must be a non-empty string", field="dataset")
        return self._call("get_dataset_lineage", ref=ref)  # type: ignore[no-any-return]


def _path(dst: str | Path | None) -> Path | None:
    return None if dst is None else Path(dst)


def _signature(signature: ModelSignature | dict[str, Any] | None) -> ModelSignature | None:
    from pydantic import ValidationError

    if signature is None or isinstance(signature, ModelSignature):
        return signature
    try:
        return ModelSignature.model_validate(signature)
    except ValidationError as exc:
        raise invalid_from_pydantic(exc, prefix="signature") from None


def _parent(name: str, parent: ModelVersion | str | int | None) -> str | None:
    if parent is None:
        return None
    if isinstance(parent, ModelVersion):
        return str(parent.ref)
    if isinstance(parent, int) and not isinstance(parent, bool):
        return str(parse_model_ref(f"{name}/{parent}", "parent"))
    return str(parse_model_ref(parent, "parent"))
