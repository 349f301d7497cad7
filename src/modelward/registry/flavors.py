"""Flavors: how a model object becomes artifact bytes and comes back.

A lookup table of flavor name -> class. The libraries a flavor needs (skops, joblib,
scikit-learn) are imported only when that flavor saves or loads, so importing this module
costs nothing. This code runs in the SDK, on the machine that saves or loads the model.

Loading must not be a way in: ``sklearn`` artifacts are skops files whose non-default
types were recorded when the version was registered, and only those are trusted when it
is loaded; ``pickle`` and ``joblib`` can run arbitrary code and load only for versions
registered with ``trusted=True``.
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path
from typing import Any, ClassVar

from modelward.errors import Forbidden, InvalidInput

# Types from these packages are trusted without ``trusted=True``: skops reports scikit-learn's
# own compiled classes (``sklearn.tree._tree.Tree``) as untrusted although they only hold data.
AUTO_TRUSTED_PREFIXES = ("sklearn.",)


class Flavor:
    name: ClassVar[str]
    executes_code: ClassVar[bool] = False

    def save(self, model: Any, *, trusted: bool) -> tuple[bytes, dict[str, Any]]:
        raise NotImplementedError

    def load(self, data: bytes, meta: dict[str, Any], *, trusted: bool, dst: Path | None) -> Any:
        raise NotImplementedError


def _unvouched(types: list[str]) -> list[str]:
    return [t for t in types if not t.startswith(AUTO_TRUSTED_PREFIXES)]


class SkopsFlavor(Flavor):
    """scikit-learn estimators and pipelines, saved with skops (no pickle)."""

    name = "sklearn"

    def save(self, model: Any, *, trusted: bool) -> tuple[bytes, dict[str, Any]]:
        import sklearn
        import skops
        import skops.io as sio

        try:
            data = sio.dumps(model)
        except Exception as exc:
            raise InvalidInput(
                f"skops cannot save {type(model).__name__}: {exc}; pass flavor='pickle' with "
                "trusted=True if you trust this object",
                field="model",
            ) from None
        untrusted = sorted(sio.get_untrusted_types(data=data))
        if (unsafe := _unvouched(untrusted)) and not trusted:
            raise InvalidInput(
                f"the model contains types skops does not trust by default: {', '.join(unsafe)}; "
                "review them and pass trusted=True to register it",
                field="trusted",
            )
        meta = {
            "format": "skops",
            "skops_version": skops.__version__,
            "sklearn_version": sklearn.__version__,
            "estimator": f"{type(model).__module__}.{type(model).__qualname__}",
            "untrusted_types": untrusted,
        }
        return data, meta

    def load(self, data: bytes, meta: dict[str, Any], *, trusted: bool, dst: Path | None) -> Any:
        import skops.io as sio

        found = sorted(sio.get_untrusted_types(data=data))
        recorded = set(meta.get("untrusted_types") or [])
        if extra := [t for t in found if t not in recorded]:
            raise Forbidden(
                f"the artifact contains types that were not recorded when the version was "
                f"registered: {', '.join(extra)}; refusing to load it"
            )
        if (unsafe := _unvouched(found)) and not trusted:
            raise Forbidden(
                f"the artifact contains types skops does not trust ({', '.join(unsafe)}) and the "
                "version was not registered as trusted; refusing to load it"
            )
        return sio.loads(data, trusted=found)


class PickleFlavor(Flavor):
    """Any picklable object. Loading a pickle can run arbitrary code."""

    name = "pickle"
    executes_code = True

    def save(self, model: Any, *, trusted: bool) -> tuple[bytes, dict[str, Any]]:
        import pickle

        return pickle.dumps(model, protocol=5), {"format": "pickle", "protocol": 5}

    def load(self, data: bytes, meta: dict[str, Any], *, trusted: bool, dst: Path | None) -> Any:
        import pickle

        refuse_untrusted(self.name, trusted)
        return pickle.loads(data)  # noqa: S301 - only for versions registered as trusted


class JoblibFlavor(Flavor):
    """Any object joblib can dump. Loading it can run arbitrary code."""

    name = "joblib"
    executes_code = True

    def save(self, model: Any, *, trusted: bool) -> tuple[bytes, dict[str, Any]]:
        import joblib

        buffer = io.BytesIO()
        joblib.dump(model, buffer)
        return buffer.getvalue(), {"format": "joblib", "joblib_version": joblib.__version__}

    def load(self, data: bytes, meta: dict[str, Any], *, trusted: bool, dst: Path | None) -> Any:
        import joblib

        refuse_untrusted(self.name, trusted)
        return joblib.load(io.BytesIO(data))


def refuse_untrusted(flavor: str, trusted: bool) -> None:
    if not trusted:
        raise Forbidden(
            f"refusing to load a {flavor} artifact: {flavor} can run arbitrary code and this "
            "version was not registered with trusted=True"
        )


class FilesFlavor(Flavor):
    """A local file or directory, stored as a deterministic tar; loads as a path."""

    name = "files"

    def save(self, model: Any, *, trusted: bool) -> tuple[bytes, dict[str, Any]]:
        if not isinstance(model, str | os.PathLike):
            raise InvalidInput(
                f"flavor 'files' takes a path to a file or directory, not {type(model).__name__}",
                field="model",
            )
        path = Path(model)
        if not path.exists():
            raise InvalidInput(f"no file or directory at {str(path)!r}", field="model")
        return deterministic_tar(path)

    def load(self, data: bytes, meta: dict[str, Any], *, trusted: bool, dst: Path | None) -> Path:
        import tempfile

        target = Path(dst) if dst is not None else Path(tempfile.mkdtemp(prefix="modelward-"))
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            # The "data" filter refuses absolute paths, "..", links out and device files.
            tar.extractall(target, filter="data")
        return target / str(meta.get("name", ""))


def _members(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    found = [root]
    for current, dirs, files in os.walk(root):
        here = Path(current)
        for d in dirs:
            if (here / d).is_symlink():
                raise InvalidInput(
                    f"{here / d} is a symbolic link to a directory; copy its contents instead",
                    field="model",
                )
        dirs.sort()
        found += [here / d for d in dirs] + [here / f for f in sorted(files)]
    return sorted(found, key=lambda p: p.relative_to(root.parent).as_posix())


def deterministic_tar(root: Path) -> tuple[bytes, dict[str, Any]]:
    """The same tree always gives the same bytes: sorted names, no times, owners or umask."""
    import gzip

    root = root.resolve() if root.name in ("", ".", "..") else root
    buffer = io.BytesIO()
    count = 0
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for path in _members(root):
                info = tarfile.TarInfo(path.relative_to(root.parent).as_posix())
                info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
                if path.is_dir():
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                    tar.addfile(info)
                    continue
                content = path.read_bytes()  # a symlink to a file contributes its target's bytes
                info.size = len(content)
                info.mode = 0o755 if os.access(path, os.X_OK) else 0o644
                tar.addfile(info, io.BytesIO(content))
                count += 1
    kind = "file" if root.is_file() else "directory"
    return buffer.getvalue(), {"format": "tar.gz", "kind": kind, "name": root.name, "files": count}


FLAVORS: dict[str, type[Flavor]] = {
    f.name: f for f in (SkopsFlavor, PickleFlavor, JoblibFlavor, FilesFlavor)
}


# ONNX, XGBoost and LightGBM add themselves to FLAVORS; they subclass Flavor, defined above.
from modelward.registry import flavors_native  # noqa: E402


def get_flavor(name: str) -> Flavor:
    try:
        return FLAVORS[name]()
    except KeyError:
        known = ", ".join(sorted(FLAVORS))
        raise InvalidInput(
            f"unknown flavor {name!r}; choose one of {known}", field="flavor"
        ) from None


def detect_flavor(model: Any) -> str:
    """The flavor a model object saves with when the caller names none."""
    import sys

    if isinstance(model, str | os.PathLike):
        return "files"
    if native := flavors_native.detect_native(model):
        return native
    # An object can only be a scikit-learn estimator if scikit-learn is already imported.
    if "sklearn" in sys.modules:
        from sklearn.base import BaseEstimator

        if isinstance(model, BaseEstimator):
            return "sklearn"
    raise InvalidInput(
        f"cannot tell how to save a {type(model).__name__}: pass flavor='sklearn' for "
        "scikit-learn-like objects, a path for 'files', or flavor='pickle' / 'joblib' with "
        "trusted=True if you trust it",
        field="flavor",
    )
