"""Production mode: refuse to start with missing, default or weak secrets.

Production mode is on when the environment has SCREENING_ENV=production (docs/deployment.md).
Each process calls ``refuse_unsafe_production_settings(<process>)`` once at start-up:

- "rasa"    (the Rasa server; first of its server extensions, serving/extensions.py),
- "actions" (the action server; its launcher, actions/__main__.py),
- "portal"  (the staff portal; portal/__main__.py).

Outside production mode it does nothing, so the embedded defaults (`bash scripts/run.sh`)
keep working. The problem texts name the setting and never echo a secret's value, because
they go to the log.

``production_problems`` is pure (environment, command line and config files in, a list of
sentences out) so every rule is unit-tested without starting a server.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from urllib.parse import urlsplit

from security import proxies

logger = logging.getLogger(__name__)

PRODUCTION_ENV_VAR = "SCREENING_ENV"
# "1" declares that this host's interfaces are all on a private network (e.g. a container
# network whose ports are not published): listening on 0.0.0.0 is then not public.
PRIVATE_NETWORK_VAR = "SCREENING_PRIVATE_NETWORK"
PROCESSES = ("rasa", "actions", "portal")
# Private address ranges (RFC 1918, IPv6 unique-local). Not ipaddress's is_private, which
# also counts documentation ranges (TEST-NET) that are not a private network.
PRIVATE_NETWORKS = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")]

MIN_SECRET_LENGTH = 16
# Values people leave in place: exact matches (case-insensitive) ...
KNOWN_DEFAULTS = {
    "password",
    "passw0rd",
    "secret",
    "token",
    "changeme",
    "admin",
    "rasa",
    "postgres",
    "redis",
    "test",
    "e2e-test-token",
    "letmein",
    "default",
}
# ... and words that mark a placeholder anywhere in the value.
PLACEHOLDER_WORDS = (
    "changeme",
    "change-me",
    "change_me",
    "example",
    "placeholder",
    "dummy",
    "your-",
    "your_",
    "xxxxxx",
    "test-token",
    "insecure",
)
# Keys of a Rasa credentials section that hold a secret (a channel's token or password).
SECRET_CREDENTIAL_KEYS = {
    "auth_token",
    "bot_token",
    "secret_token",
    "secret",
    "password",
    "token",
    "access_token",
    "app_secret",
    "verify",
    "api_key",
}
ENV_REFERENCE = re.compile(r"^\$\{([^}]+)\}$")
# The trusted reverse proxies of each process that limits requests per client address
# (security/proxies.py). The Rasa server also takes it from its REST channel's entry.
RASA_PROXIES_VAR = "RASA_TRUSTED_PROXIES"
PORTAL_PROXIES_VAR = "PORTAL_TRUSTED_PROXIES"
REST_CHANNEL = "channels.rest_guarded.GuardedRestInput"


def is_production(environ: Mapping[str, str]) -> bool:
    return environ.get(PRODUCTION_ENV_VAR, "").strip().lower() == "production"


def weak_secret_reason(value: str | None) -> str | None:
    """Why this secret is unusable in production, or None when it is acceptable."""
    value = (value or "").strip()
    if not value:
        return "is empty"
    lowered = value.lower()
    if lowered in KNOWN_DEFAULTS or any(word in lowered for word in PLACEHOLDER_WORDS):
        return "is a default or placeholder value"
    if len(value) < MIN_SECRET_LENGTH:
        return f"is too short ({len(value)} characters; use at least {MIN_SECRET_LENGTH} random ones)"
    if len(set(value)) < 6:
        return "has too few different characters to be random"
    return None


def _is_private_host(host: str, environ: Mapping[str, str]) -> bool:
    """True when a server bound to `host` is reachable only from this machine or a private network."""
    host = (host or "").strip().strip("[]")
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a host name: we cannot tell what it resolves to in production
    if address.is_unspecified:  # 0.0.0.0 / ::, every interface
        return environ.get(PRIVATE_NETWORK_VAR, "") == "1"
    return address.is_loopback or any(
        address in network for network in PRIVATE_NETWORKS if network.version == address.version
    )


def _public_bind_problem(what: str, host: str, how_to_fix: str, environ: Mapping[str, str]) -> list[str]:
    if _is_private_host(host, environ):
        return []
    return [
        f"{what} listens on {host or 'every interface'}, which may be public. {how_to_fix}, "
        f"or set {PRIVATE_NETWORK_VAR}=1 if every interface of this host is on a private "
        f"network (e.g. a container network without published ports)."
    ]


def _database_url_problems(name: str, environ: Mapping[str, str]) -> list[str]:
    url = environ.get(name, "").strip()
    if not url:
        return [
            f"{name} is not set: the default is a SQLite file inside the app directory. "
            f"Set it to the production database's URL."
        ]
    if url.startswith("sqlite"):
        return []
    parts = urlsplit(url)
    if not parts.hostname:  # a local socket: the database authenticates the OS user
        return []
    reason = weak_secret_reason(parts.password)
    if reason:
        return [f"the database password in {name} {reason}."]
    return []


# ---------------------------------------------------------------------------- Rasa server


def _rasa_arguments(argv: Sequence[str]) -> argparse.Namespace:
    """The `rasa run` options that matter here, read the way Rasa reads them."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--enable-api", action="store_true")
    parser.add_argument("-t", "--auth-token")
    parser.add_argument("--jwt-secret")
    parser.add_argument("-i", "--interface", default="0.0.0.0")  # Rasa's default
    parser.add_argument("--cors", nargs="*")
    parser.add_argument("--endpoints", default="endpoints.yml")
    parser.add_argument("--credentials", default="credentials.yml")
    parser.add_argument("--logging-config-file")
    known, _ = parser.parse_known_args(list(argv))
    return known


def _resolve(value: object, environ: Mapping[str, str], where: str) -> tuple:
    """(the value Rasa will use, a problem when the file holds a literal secret)."""
    match = ENV_REFERENCE.match(str(value).strip()) if value is not None else None
    if match:
        return environ.get(match.group(1), ""), None
    if value in (None, ""):
        return "", None
    return str(value), f"{where} is written in the file; use an environment variable (${{NAME}})."


def _endpoint_problems(endpoints: Mapping, file: str, environ: Mapping[str, str]) -> list[str]:
    problems = []
    for section in ("tracker_store", "lock_store", "event_broker"):
        store = endpoints.get(section) or {}
        if not isinstance(store, Mapping):
            continue
        needs_password = (
            str(store.get("dialect", "")).strip('"') not in ("", "sqlite")
            or "redis" in str(store.get("type", "")).lower()
            or "lock_store" in str(store.get("type", "")).lower()
        )
        if not needs_password and "password" not in store:
            continue
        where = f"{file}: {section}.password"
        value, literal = _resolve(store.get("password"), environ, where)
        if literal:
            problems.append(literal)
        reason = weak_secret_reason(value)
        if reason:
            variable = ENV_REFERENCE.match(str(store.get("password", "")).strip())
            named = f" ({variable.group(1)})" if variable else ""
            problems.append(f"{where}{named} {reason}.")
    return problems


def _credential_problems(credentials: Mapping, file: str, environ: Mapping[str, str]) -> list[str]:
    problems = []
    for channel, settings in credentials.items():
        if not isinstance(settings, Mapping):
            continue
        for key, raw in settings.items():
            if key not in SECRET_CREDENTIAL_KEYS:
                continue
            where = f"{file}: {channel}.{key}"
            value, literal = _resolve(raw, environ, where)
            if literal:
                problems.append(literal)
            reason = weak_secret_reason(value)
            if reason:
                problems.append(f"{where} {reason}.")
    return problems


def _rasa_proxy_problems(credentials: Mapping, environ: Mapping[str, str]) -> list[str]:
    """The REST channel's per-address limit needs to know its proxy (or that there is none):
    RASA_TRUSTED_PROXIES, or trusted_proxies in the channel's entry (the variable wins, as
    in channels/input_limits.py). Only the REST channel limits per address."""
    if REST_CHANNEL not in credentials:
        return []
    value = environ.get(RASA_PROXIES_VAR, "")
    if not value.strip():
        entry = credentials.get(REST_CHANNEL) or {}
        raw = entry.get("trusted_proxies") if isinstance(entry, Mapping) else None
        reference = ENV_REFERENCE.match(str(raw).strip()) if raw is not None else None
        value = environ.get(reference.group(1), "") if reference else ("" if raw is None else str(raw))
    problem = proxies.unset_or_invalid(f"{RASA_PROXIES_VAR} (or trusted_proxies under {REST_CHANNEL})", value)
    return [problem] if problem else []


def _credentials_file_problems(credentials: Mapping, file: str, environ: Mapping[str, str]) -> list[str]:
    return _credential_problems(credentials, file, environ) + _rasa_proxy_problems(credentials, environ)


def _rasa_problems(environ: Mapping[str, str], argv: Sequence[str], read_yaml: Callable[[str], Mapping]) -> list[str]:
    args = _rasa_arguments(argv)
    problems: list[str] = []
    if args.enable_api:
        if not args.auth_token and not args.jwt_secret:
            problems.append(
                "Rasa's HTTP API is enabled (--enable-api) without --auth-token or "
                "--jwt-secret: anyone who reaches the port could read every conversation."
            )
        if args.auth_token and weak_secret_reason(args.auth_token):
            problems.append(f"the API token (--auth-token, RASA_API_TOKEN) {weak_secret_reason(args.auth_token)}.")
        if args.jwt_secret and weak_secret_reason(args.jwt_secret):
            problems.append(f"the JWT secret (--jwt-secret) {weak_secret_reason(args.jwt_secret)}.")
        problems += _public_bind_problem(
            "Rasa's HTTP API", args.interface, "Bind it with --interface to 127.0.0.1 or a private address", environ
        )
    for origin in args.cors or []:
        if origin.strip() == "*":
            problems.append("--cors allows every origin (*): list the clinic sites that embed the widget.")
        elif origin.startswith("http://"):
            problems.append(
                f"--cors allows {origin}, a plain-http page: patients' answers would "
                f"travel unencrypted. Use the https origin."
            )
    for option, check in ((args.endpoints, _endpoint_problems), (args.credentials, _credentials_file_problems)):
        try:
            content = read_yaml(option) or {}
        except FileNotFoundError:
            continue  # Rasa itself says the file is missing
        problems += check(content, option, environ)
    return problems


# ----------------------------------------------------------------------- the other processes


def _actions_problems(environ: Mapping[str, str]) -> list[str]:
    problems = _database_url_problems("CONSULTATION_DB_URL", environ)
    # The action server has no authentication: only the Rasa servers may reach it.
    problems += _public_bind_problem(
        "The action server",
        environ.get("SANIC_HOST", "0.0.0.0"),
        "Set SANIC_HOST to 127.0.0.1 or a private address",
        environ,
    )
    return problems


def _portal_problems(environ: Mapping[str, str]) -> list[str]:
    problems = []
    for name in ("TRACKER_DB_URL", "PORTAL_DB_URL", "CONSULTATION_DB_URL"):
        problems += _database_url_problems(name, environ)
    if environ.get("PORTAL_INSECURE_COOKIES", "") == "1":
        problems.append(
            "PORTAL_INSECURE_COOKIES=1 sends staff session cookies over plain http: "
            "serve the portal over https and unset it."
        )
    problems += _public_bind_problem(
        "The staff portal",
        environ.get("PORTAL_HOST", "127.0.0.1"),
        "Keep PORTAL_HOST=127.0.0.1 behind an https reverse proxy",
        environ,
    )
    # Sign-in throttling counts failures per client address (portal/accounts.py).
    proxy_problem = proxies.unset_or_invalid(PORTAL_PROXIES_VAR, environ.get(PORTAL_PROXIES_VAR))
    return problems + ([proxy_problem] if proxy_problem else [])


def production_problems(
    process: str,
    environ: Mapping[str, str],
    argv: Sequence[str] = (),
    read_yaml: Callable[[str], Mapping] | None = None,
    redaction_installed: bool = True,
) -> list[str]:
    """Every reason this process must not start in production mode (empty: safe to start).

    process: "rasa", "actions" or "portal"; argv: the process's command line (the Rasa
    server's options are read from it); read_yaml: reads a config file (Rasa server only);
    redaction_installed: whether security.log_redaction is active in this process.
    """
    if process not in PROCESSES:
        raise ValueError(f"unknown process {process!r}; expected one of {PROCESSES}")
    if not is_production(environ):
        return []
    problems: list[str] = []
    if not redaction_installed:
        problems.append(
            "log redaction is not installed: start with the logging config security/logging.yml (docs/deployment.md)."
        )
    if environ.get("LOG_LEVEL", "").strip().upper() == "DEBUG" or {"-vv", "--debug"} & set(argv):
        problems.append(
            "debug logging is on (LOG_LEVEL=DEBUG, -vv or --debug): Rasa then logs every "
            "message's text, which redaction leaves alone below INFO. Log at INFO."
        )
    if process in ("rasa", "actions") and environ.get("RASA_TELEMETRY_ENABLED", "").strip().lower() != "false":
        # Rasa's telemetry is on unless switched off; its crash reports carry exception texts.
        problems.append(
            "Rasa telemetry is not switched off: set RASA_TELEMETRY_ENABLED=false, so no "
            "usage events or crash reports leave the clinic's network."
        )
    if process == "rasa":
        problems += _rasa_problems(environ, argv, read_yaml or _read_yaml)
    elif process == "actions":
        problems += _actions_problems(environ)
    else:
        problems += _portal_problems(environ)
    return problems


def _read_yaml(path: str) -> dict:
    import yaml  # Rasa's own dependency; imported here so the checks above stay importable

    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def refuse_unsafe_production_settings(
    process: str, environ: Mapping[str, str] | None = None, argv: Sequence[str] | None = None
) -> None:
    """In production mode, stop this process (exit status 2) when a setting is unsafe.

    Each problem is logged (and printed to stderr, in case logging is not set up yet).
    """
    from security import log_redaction

    environ = os.environ if environ is None else environ
    problems = production_problems(
        process, environ, sys.argv if argv is None else argv, redaction_installed=log_redaction.is_installed()
    )
    if not is_production(environ):
        return
    if not problems:
        logger.info("%s: production settings checked, none unsafe.", process)
        return
    for problem in problems:
        logger.critical("%s refuses to start in production mode: %s", process, problem)
        print(f"{process} refuses to start in production mode: {problem}", file=sys.stderr)
    print(f"Fix the settings above ({PRODUCTION_ENV_VAR}=production; see docs/deployment.md).", file=sys.stderr)
    raise SystemExit(2)
