"""Password hashing with Argon2id (memory-hard), rehashing when parameters change."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# Verified against when the username is unknown, so a login takes the same time either way
# and its timing does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("showboard-no-such-user")


def configure(time_cost: int, memory_kib: int) -> None:
    """Set the Argon2id cost for this process (from FORUM_ARGON2_*). Hashes made with other
    parameters still verify, and are upgraded at the next successful login."""
    global _hasher, _DUMMY_HASH
    if (time_cost, memory_kib) != (_hasher.time_cost, _hasher.memory_cost):
        _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        _DUMMY_HASH = _hasher.hash("showboard-no-such-user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
