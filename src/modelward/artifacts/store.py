"""Blobs addressed by their SHA-256: written once, verified on every read."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import fsspec

from modelward.errors import IntegrityError, InvalidInput, NotFound

CHUNK = 1 << 20
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def check_digest(digest: str, field: str = "digest") -> str:
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise InvalidInput("digest must be 64 lowercase hex characters (sha256)", field=field)
    return digest


class ArtifactStore:
    """A folder or any fsspec URL (``s3://bucket/prefix``) holding ``sha256/ab/<digest>``."""

    def __init__(self, root: str) -> None:
        self.root = root.rstrip("/")
        self.fs, self._base = fsspec.core.url_to_fs(self.root)
        self._local = self.fs.protocol in ("file", ("file", "local"), "local") or (
            isinstance(self.fs.protocol, tuple) and "file" in self.fs.protocol
        )
        if self._local:
            Path(self._base).mkdir(parents=True, exist_ok=True)

    def _path(self, digest: str) -> str:
        return f"{self._base}/sha256/{digest[:2]}/{digest}"

    def exists(self, digest: str) -> bool:
        return bool(self.fs.exists(self._path(check_digest(digest))))

    def put_bytes(self, data: bytes, expected: str | None = None) -> str:
        """Store ``data``; return its digest. Storing the same bytes twice is free."""
        digest = sha256_bytes(data)
        if expected is not None and expected != digest:
            raise IntegrityError(
                f"uploaded bytes hash to {digest}, not the declared {expected}",
                field="digest",
                expected=expected,
                actual=digest,
            )
        if not self.exists(digest):
            self._write(digest, [data])
        return digest

    def put_file(self, path: str | os.PathLike[str]) -> str:
        digest = sha256_file(path)
        if not self.exists(digest):
            with open(path, "rb") as fh:
                self._write(digest, iter(lambda: fh.read(CHUNK), b""))
        return digest

    def _write(self, digest: str, chunks: Iterator[bytes] | list[bytes]) -> None:
        final = self._path(digest)
        self.fs.makedirs(final.rsplit("/", 1)[0], exist_ok=True)
        # Write beside the target and rename, so a crash never leaves a half blob
        # under a digest that readers would trust.
        tmp = f"{final}.{uuid.uuid4().hex}.tmp"
        with self.fs.open(tmp, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
        self.fs.mv(tmp, final)

    def get_bytes(self, digest: str, name: str | None = None) -> bytes:
        """Read a blob and verify it still hashes to ``digest``."""
        path = self._path(check_digest(digest))
        try:
            with self.fs.open(path, "rb") as fh:
                data: bytes = fh.read()
        except FileNotFoundError as exc:
            raise NotFound(
                f"artifact {name or digest} is missing from the store", field="digest"
            ) from exc
        actual = sha256_bytes(data)
        if actual != digest:
            label = name or digest
            raise IntegrityError(
                f"artifact {label} is corrupted: expected sha256 {digest}, found {actual}",
                field="digest",
                expected=digest,
                actual=actual,
            )
        return data

    def open_verified(self, digest: str, name: str | None = None) -> IO[bytes]:
        """A readable file-like of verified bytes (read fully, then checked)."""
        import io

        return io.BytesIO(self.get_bytes(digest, name))

    def local_path(self, digest: str) -> str | None:
        """The blob's file path when the store is a local folder (for tamper tests and tools)."""
        return self._path(check_digest(digest)) if self._local else None
