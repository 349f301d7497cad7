"""Content-addressed, immutable artifact storage over fsspec."""

from modelward.artifacts.paths import validate_artifact_path
from modelward.artifacts.store import ArtifactStore, sha256_bytes, sha256_file

__all__ = ["ArtifactStore", "sha256_bytes", "sha256_file", "validate_artifact_path"]
