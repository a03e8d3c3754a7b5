"""Portal settings, read from the environment once at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from security import proxies

ROOT = Path(__file__).resolve().parent.parent
# Rasa's default tracker store for this project (endpoints.yml: SQLite at var/rasa.db).
DEFAULT_TRACKER_URL = f"sqlite:///{ROOT / 'var' / 'rasa.db'}"
# A separate file by default: with SQLite, the portal's writes then never hold a lock on the
# database Rasa writes every turn to. Point PORTAL_DB_URL at the tracker's URL to share it.
DEFAULT_PORTAL_URL = f"sqlite:///{ROOT / 'var' / 'portal.db'}"
DEFAULT_CONSULTATION_URL = f"sqlite:///{ROOT / 'var' / 'consultations.db'}"


class ConfigError(ValueError):
    """A setting has a value the portal cannot use; the message says which and why."""


def _number(name: str, default: float, minimum: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum:g}, got {raw!r}")
    return value


@dataclass(frozen=True)
class Settings:
    tracker_url: str
    portal_url: str
    consultation_url: str
    host: str = "127.0.0.1"
    port: int = 5010
    session_idle_minutes: float = 30.0
    session_purge_seconds: float = 600.0  # how often expired staff sessions are deleted
    secure_cookies: bool = True
    login_max_failures: int = 5
    login_lockout_seconds: float = 60.0
    retention_days: float = 0.0  # 0: no default; `purge` then needs --older-than-days
    page_size: int = 50
    # The https proxy in front of the portal, whose X-Forwarded-For names the staff member's
    # address for sign-in throttling and the audit log (empty: believe no such header).
    trusted_proxies: frozenset[str] = field(default_factory=frozenset)


def _trusted_proxies() -> frozenset[str]:
    try:
        return proxies.parse_proxies(os.environ.get("PORTAL_TRUSTED_PROXIES"))
    except proxies.ProxySettingError as problem:
        raise ConfigError(f"PORTAL_TRUSTED_PROXIES: {problem}") from None


def load_settings() -> Settings:
    tracker_url = os.environ.get("TRACKER_DB_URL") or DEFAULT_TRACKER_URL
    return Settings(
        tracker_url=tracker_url,
        portal_url=os.environ.get("PORTAL_DB_URL") or DEFAULT_PORTAL_URL,
        consultation_url=os.environ.get("CONSULTATION_DB_URL") or DEFAULT_CONSULTATION_URL,
        host=os.environ.get("PORTAL_HOST") or "127.0.0.1",
        port=int(_number("PORTAL_PORT", 5010, 1)),
        session_idle_minutes=_number("PORTAL_SESSION_IDLE_MINUTES", 30.0, 1),
        session_purge_seconds=_number("PORTAL_SESSION_PURGE_SECONDS", 600.0, 1),
        # Secure cookies are never sent over plain http, so local http use needs this off.
        secure_cookies=os.environ.get("PORTAL_INSECURE_COOKIES", "") != "1",
        login_max_failures=int(_number("PORTAL_LOGIN_MAX_FAILURES", 5, 1)),
        login_lockout_seconds=_number("PORTAL_LOGIN_LOCKOUT_SECONDS", 60.0, 1),
        retention_days=_number("PORTAL_RETENTION_DAYS", 0.0, 0),
        trusted_proxies=_trusted_proxies(),
    )
