"""Secrets a team types in (vendor API keys): encrypted at rest, never shown back.

The key is derived from `CONSOLE_SECRETS_KEY` (or, when unset, `SECRET_KEY`) with
HKDF, and the value sealed with Fernet (AES-128-CBC with an HMAC), so a database dump
alone does not give the keys away and a tampered value is refused rather than used.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class SecretError(ValueError):
    """A stored secret that cannot be opened (the key changed, or the value was altered)."""


def _fernet(key_material: str) -> Fernet:
    derived = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"deal-origination-console",
        info=b"team integration secrets",
    ).derive(key_material.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(secret: str, key_material: str) -> str:
    """The secret encrypted for storage; "" stays ""."""
    if not secret:
        return ""
    return _fernet(key_material).encrypt(secret.encode()).decode()


def unseal(token: str, key_material: str) -> str:
    """The stored secret in the clear, for the moment of the call."""
    if not token:
        return ""
    try:
        return _fernet(key_material).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretError(
            "The stored key cannot be read (the console's secrets key changed?); enter it again."
        ) from exc
