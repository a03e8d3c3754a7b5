"""Staff accounts, password hashing, sessions and login throttling.

Passwords are hashed with argon2id (argon2-cffi defaults). A session is a random token in
an HttpOnly cookie; the database keeps only its SHA-256, so a copy of the database does not
let anyone sign in. Sessions end after PORTAL_SESSION_IDLE_MINUTES without a request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES = ("admin", "reviewer")
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
MIN_PASSWORD_LENGTH = 12

_hasher = PasswordHasher()
# Verified when the username is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """Bad input for an account; the message is safe to show."""


@dataclass(frozen=True)
class Staff:
    id: int
    username: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class Session:
    staff: Staff
    csrf_token: str


def create_user(conn, username: str, password: str, role: str) -> str:
    """Creates an account; returns the normalised username."""
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise AccountError("username: 2-80 characters, lower-case letters, digits, '.', '_' or '-'")
    if role not in ROLES:
        raise AccountError(f"role must be one of: {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if conn.execute(sa.text("SELECT 1 FROM portal_staff WHERE username = :u"), {"u": username}).first():
        raise AccountError(f"user {username!r} already exists")
    conn.execute(
        sa.text(
            "INSERT INTO portal_staff (username, password_hash, role, active, created_at) VALUES (:u, :h, :r, 1, :t)"
        ),
        {"u": username, "h": _hasher.hash(password), "r": role, "t": time.time()},
    )
    return username


def deactivate_user(conn, username: str) -> None:
    result = conn.execute(
        sa.text("UPDATE portal_staff SET active = 0 WHERE username = :u"), {"u": username.strip().lower()}
    )
    if result.rowcount == 0:
        raise AccountError(f"no user {username!r}")
    conn.execute(
        sa.text("DELETE FROM portal_sessions WHERE staff_id IN (SELECT id FROM portal_staff WHERE username = :u)"),
        {"u": username.strip().lower()},
    )


def list_users(conn):
    return [
        dict(r._mapping)
        for r in conn.execute(sa.text("SELECT username, role, active, created_at FROM portal_staff ORDER BY username"))
    ]


def check_password(conn, username: str, password: str) -> Staff | None:
    row = conn.execute(
        sa.text("SELECT id, username, role, password_hash FROM portal_staff WHERE username = :u AND active = 1"),
        {"u": username.strip().lower()},
    ).first()
    try:
        _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return Staff(row.id, row.username, row.role) if row else None


# ---- login throttling ------------------------------------------------------
# Failures are counted per username and per client address. After max_failures in a row,
# every further attempt is refused until the block ends; each failure while at the limit
# doubles the block (capped at an hour), so guessing gets slower the longer it goes on.


def throttle_keys(username: str, ip: str):
    return [f"user:{username.strip().lower()[:80]}", f"ip:{ip[:64]}"]


def blocked_for(conn, keys, now: float) -> float:
    """Seconds until an attempt for these keys is allowed again (0: allowed now)."""
    query = sa.text("SELECT MAX(blocked_until) FROM portal_login_failures WHERE throttle_key IN :keys").bindparams(
        sa.bindparam("keys", expanding=True)
    )
    until = conn.execute(query, {"keys": list(keys)}).scalar() or 0
    return max(0.0, until - now)


def record_failure(conn, keys, now: float, max_failures: int, lockout_seconds: float) -> None:
    for key in keys:
        row = conn.execute(
            sa.text("SELECT failures FROM portal_login_failures WHERE throttle_key = :k"), {"k": key}
        ).first()
        failures = (row.failures if row else 0) + 1
        blocked_until = 0.0
        if failures >= max_failures:
            blocked_until = now + min(3600.0, lockout_seconds * 2 ** (failures - max_failures))
        params = {"k": key, "f": failures, "t": now, "b": blocked_until}
        if row:
            conn.execute(
                sa.text(
                    "UPDATE portal_login_failures SET failures = :f, last_failure_at = :t, "
                    "blocked_until = :b WHERE throttle_key = :k"
                ),
                params,
            )
        else:
            conn.execute(
                sa.text(
                    "INSERT INTO portal_login_failures (throttle_key, failures, "
                    "last_failure_at, blocked_until) VALUES (:k, :f, :t, :b)"
                ),
                params,
            )


def clear_failures(conn, keys) -> None:
    conn.execute(
        sa.text("DELETE FROM portal_login_failures WHERE throttle_key IN :keys").bindparams(
            sa.bindparam("keys", expanding=True)
        ),
        {"keys": list(keys)},
    )


# ---- sessions ----------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(conn, staff: Staff) -> str:
    """Returns the new session token (for the cookie)."""
    token = secrets.token_urlsafe(32)
    now = time.time()
    conn.execute(
        sa.text(
            "INSERT INTO portal_sessions (token_hash, staff_id, csrf_token, created_at, "
            "last_seen_at) VALUES (:h, :s, :c, :t, :t)"
        ),
        {"h": _digest(token), "s": staff.id, "c": secrets.token_urlsafe(32), "t": now},
    )
    return token


def resume_session(conn, token: str, idle_seconds: float) -> Session | None:
    """The session for a cookie token if it is still live; touches its last-seen time."""
    if not token:
        return None
    now = time.time()
    row = conn.execute(
        sa.text(
            "SELECT s.token_hash, s.csrf_token, s.last_seen_at, u.id, u.username, u.role, u.active "
            "FROM portal_sessions s JOIN portal_staff u ON u.id = s.staff_id WHERE s.token_hash = :h"
        ),
        {"h": _digest(token)},
    ).first()
    if row is None:
        return None
    if not row.active or now - row.last_seen_at > idle_seconds:
        conn.execute(sa.text("DELETE FROM portal_sessions WHERE token_hash = :h"), {"h": row.token_hash})
        return None
    conn.execute(
        sa.text("UPDATE portal_sessions SET last_seen_at = :t WHERE token_hash = :h"), {"t": now, "h": row.token_hash}
    )
    return Session(Staff(row.id, row.username, row.role), row.csrf_token)


def end_session(conn, token: str) -> None:
    conn.execute(sa.text("DELETE FROM portal_sessions WHERE token_hash = :h"), {"h": _digest(token or "")})


def delete_expired_sessions(conn, idle_seconds: float) -> int:
    return conn.execute(
        sa.text("DELETE FROM portal_sessions WHERE last_seen_at < :t"), {"t": time.time() - idle_seconds}
    ).rowcount


def tokens_match(expected: str, given: str) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(expected, given)
