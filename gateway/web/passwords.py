"""Passwords: argon2id hashes (argon2-cffi's defaults, RFC 9106's low-memory profile).

The ledger stores only the hash. ``verify`` takes as long for an unknown user as for a known one
(it checks against a dummy hash), so timing does not tell which names exist.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = [
    "MIN_LENGTH",
    "PasswordError",
    "check_new_password",
    "hash_password",
    "needs_rehash",
    "verify",
]

#: The shortest password accepted for a new user (NIST SP 800-63B asks for at least 8).
MIN_LENGTH = 12
_MAX_LENGTH = 1024
_hasher = PasswordHasher()
_DUMMY = _hasher.hash("not a password of anyone's")


class PasswordError(ValueError):
    """A new password that is not accepted (the message says why)."""


def check_new_password(password: str) -> str:
    """``password`` if it may be set, else a ``PasswordError``."""
    if len(password) < MIN_LENGTH:
        raise PasswordError(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > _MAX_LENGTH:
        raise PasswordError(f"a password may have at most {_MAX_LENGTH} characters")
    if password.strip() != password:
        raise PasswordError("a password may not start or end with spaces")
    return password


def hash_password(password: str) -> str:
    """The argon2id hash of a new password (checked first)."""
    return _hasher.hash(check_new_password(password))


def verify(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (None: an unknown user, always False)."""
    if len(password) > _MAX_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's (rehash on login)."""
    return _hasher.check_needs_rehash(password_hash)
