"""Authenticated encryption and keyed hashes. Pure: keys come in, nothing is read from outside."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


class DecryptionError(Exception):
    """A sealed value could not be opened: wrong key, wrong row, or tampered bytes."""


@lru_cache(maxsize=16)
def _aead(key: bytes) -> AESGCM:
    """One cipher object per key (building it expands the key schedule every time)."""
    return AESGCM(key[:32])


@dataclass(frozen=True)
class Keyring:
    """Encryption keys by id; ``active_id`` seals new values, every id can still open old ones."""

    active_id: str
    keys: Mapping[str, bytes] = field(repr=False)

    def __post_init__(self) -> None:
        if self.active_id not in self.keys:
            raise ValueError("the active key id must be one of the keys")

    def seal(self, plaintext: bytes, associated_data: bytes) -> tuple[str, bytes]:
        nonce = os.urandom(NONCE_BYTES)
        aead = _aead(self.keys[self.active_id])
        return self.active_id, nonce + aead.encrypt(nonce, plaintext, associated_data)

    def open(self, key_id: str, blob: bytes, associated_data: bytes) -> bytes:
        key = self.keys.get(key_id)
        if key is None:
            raise DecryptionError(f"no key with id {key_id!r} is configured")
        try:
            return _aead(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], associated_data)
        except InvalidTag as exc:
            raise DecryptionError("the sealed value does not match its row or key") from exc


def keyed_hash(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()
