"""The log's Ed25519 key: made once at `init`, kept under ./var/, used to sign tree heads.

The private key never leaves its file (mode 0600); the public key is written to the database so
that every API node can serve it without reading the signer's disk.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


@dataclass(frozen=True, slots=True)
class PublicKey:
    raw_hex: str
    pem: str
    key_id: str  # SHA-256 of the raw key, hex


def load_or_create(path: str | Path) -> Ed25519PrivateKey:
    """The key at `path`, generated there (readable by its owner only) if there is none."""
    path = Path(path)
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} holds no Ed25519 private key")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
        out.flush()
        os.fsync(out.fileno())
    return key


def public(key: Ed25519PrivateKey | Ed25519PublicKey) -> PublicKey:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    pem = pub.public_bytes(serialization.Encoding.PEM,
                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return PublicKey(raw_hex=raw.hex(), pem=pem, key_id=hashlib.sha256(raw).hexdigest())


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    return base64.b64encode(key.sign(message)).decode()


def valid(public_key_hex: str, message: bytes, signature_b64: str) -> bool:
    """Is `signature_b64` the key's Ed25519 signature of `message`?"""
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex)).verify(
            base64.b64decode(signature_b64, validate=True), message)
    except (InvalidSignature, ValueError):
        return False
    return True
