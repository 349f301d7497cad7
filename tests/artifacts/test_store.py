"""The artifact store: content addressing, dedup, verification on read, safe logical paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelward.artifacts import ArtifactStore, sha256_bytes, validate_artifact_path
from modelward.errors import IntegrityError, InvalidInput, NotFound


@pytest.fixture(params=["folder", "memory"])
def artifacts(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    """A local folder, and an fsspec URL standing in for object storage."""
    if request.param == "folder":
        return ArtifactStore(str(tmp_path / "blobs"))
    return ArtifactStore(f"memory://mw-{tmp_path.name}")


def test_put_returns_sha256_and_reads_back(artifacts: ArtifactStore) -> None:
    digest = artifacts.put_bytes(b"model bytes")
    assert digest == sha256_bytes(b"model bytes")
    assert artifacts.get_bytes(digest) == b"model bytes"


def test_same_bytes_are_stored_once(artifacts: ArtifactStore) -> None:
    a = artifacts.put_bytes(b"x" * 1000)
    b = artifacts.put_bytes(b"x" * 1000)
    assert a == b
    blobs = [p for p in artifacts.fs.find(artifacts._base) if not p.endswith(".tmp")]
    assert len(blobs) == 1


def test_put_file_streams_and_matches_bytes(artifacts: ArtifactStore, tmp_path: Path) -> None:
    f = tmp_path / "big.bin"
    f.write_bytes(bytes(range(256)) * 20_000)
    assert artifacts.put_file(f) == sha256_bytes(f.read_bytes())


def test_declared_digest_must_match(artifacts: ArtifactStore) -> None:
    with pytest.raises(IntegrityError) as err:
        artifacts.put_bytes(b"abc", expected="0" * 64)
    assert err.value.field == "digest"
    assert not artifacts.exists("0" * 64)


def test_flipped_byte_is_refused_naming_both_digests(tmp_path: Path) -> None:
    store = ArtifactStore(str(tmp_path / "blobs"))
    digest = store.put_bytes(b"weights" * 100)
    path = Path(store.local_path(digest))  # type: ignore[arg-type]
    raw = bytearray(path.read_bytes())
    raw[10] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(IntegrityError) as err:
        store.get_bytes(digest, name="credit-scorer/1")
    msg = str(err.value)
    assert "credit-scorer/1" in msg and digest in msg and sha256_bytes(bytes(raw)) in msg


def test_missing_blob_and_malformed_digest(artifacts: ArtifactStore) -> None:
    with pytest.raises(NotFound):
        artifacts.get_bytes("a" * 64)
    with pytest.raises(InvalidInput) as err:
        artifacts.get_bytes("../../etc/passwd")
    assert err.value.field == "digest"


@pytest.mark.parametrize(
    "bad",
    ["../secret", "a/../../b", "/etc/passwd", "C:\\temp\\x", "\\\\server\\share", "", "a\x00b"],
)
def test_artifact_paths_may_not_escape(bad: str) -> None:
    with pytest.raises(InvalidInput) as err:
        validate_artifact_path(bad)
    assert err.value.field == "path"


def test_artifact_paths_are_normalised() -> None:
    assert validate_artifact_path("plots//./roc.png") == "plots/roc.png"
    assert validate_artifact_path("plots\\roc.png") == "plots/roc.png"
