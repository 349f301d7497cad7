"""Ed25519 checkpoints: a signature over (seq, head_hash) made with a key the store never sees.

An auditor keeps the public key outside the database. Rewriting history then needs the
private key too: a rewritten chain no longer passes through a checkpointed hash, and a
forged checkpoint does not verify.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from modelward.errors import InvalidInput

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def signed_message(seq: int, head_hash: str) -> bytes:
    """The exact bytes a checkpoint signs; the version prefix gives them one meaning only."""
    return f"modelward-audit-checkpoint/v1\n{seq}\n{head_hash}".encode()


def generate_private_key_pem() -> tuple[bytes, str]:
    """A new private key as unencrypted PKCS#8 PEM, and its public key as hex."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem, public_key_hex(key)


def load_private_key(path: str | Path) -> Any:
    """An Ed25519 private key from a PEM file, or ``InvalidInput`` naming the file."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read key file {path}: {exc.strerror}", field="key") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(
            f"{path} is not an unencrypted PEM private key: {exc}", field="key"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidInput(f"{path} holds a {type(key).__name__}, not an Ed25519 key", field="key")
    return key


def public_key_hex(private_key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return raw.hex()


def sign(private_key: Any, seq: int, head_hash: str) -> str:
    """The hex Ed25519 signature of a checkpoint at ``seq``."""
    return private_key.sign(signed_message(seq, head_hash)).hex()  # type: ignore[no-any-return]


def parse_public_key(text: str, field: str = "public_key") -> str:
    """A public key given as 64 hex digits or as a PEM public key, normalised to hex."""
    value = text.strip()
    if value.startswith("-----BEGIN"):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        try:
            key = serialization.load_pem_public_key(value.encode())
        except ValueError as exc:
            raise InvalidInput(f"{field}: not a PEM public key ({exc})", field=field) from None
        if not isinstance(key, Ed25519PublicKey):
            raise InvalidInput(f"{field}: not an Ed25519 public key", field=field)
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
    value = value.lower()
    if not _HEX64.match(value):
        raise InvalidInput(
            f"{field}: expected an Ed25519 public key as 64 hex digits, got {text[:80]!r}",
            field=field,
        )
    return value


def verify_signature(public_key: str, seq: int, head_hash: str, signature: str) -> bool:
    """Whether ``signature`` signs (seq, head_hash) under ``public_key`` (both hex)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key))
        key.verify(bytes.fromhex(signature), signed_message(seq, head_hash))
    except (InvalidSignature, ValueError):
        return False
    return True
