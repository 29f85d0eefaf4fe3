"""Encryption of secrets at rest: MultiFernet over `settings.UKU_ENCRYPTION_KEYS` (newest first).

Encrypting always uses the newest key; decrypting tries each key, so old ciphertexts keep working
while `manage.py rotate_encryption_keys` re-encrypts them under the newest one.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class DecryptionError(Exception):
    """A ciphertext that none of the configured keys opens (a key was dropped too early)."""


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("UKU_ENCRYPTION_KEYS is empty.")
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "UKU_ENCRYPTION_KEYS must hold Fernet keys (32 url-safe base64 bytes each)."
        ) from exc


def _current() -> MultiFernet:
    return _fernet(tuple(settings.UKU_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return _current().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise DecryptionError(
            "A stored secret cannot be decrypted with the configured keys."
        ) from None


def rotate(ciphertext: str) -> str:
    """Re-encrypt under the newest key (raises DecryptionError if no key opens it)."""
    try:
        return _current().rotate(ciphertext.encode()).decode()
    except InvalidToken:
        raise DecryptionError(
            "A stored secret cannot be decrypted with the configured keys."
        ) from None
