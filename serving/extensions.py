"""Every extension of the Rasa server, in one list, installed in order by one function.

Rasa 3.6 loads our code only through the classes named in config.yml, endpoints.yml and
credentials.yml, so nothing of ours runs before those are loaded. The server extensions
below change Rasa itself (its logging, its action calls, its turn handling), so they are
installed by the project's launcher instead, before Rasa starts serving:

    python -m serving run --model models/screening.tar.gz --endpoints endpoints.yml ...
    python -m serving shell --model models/screening.tar.gz --endpoints endpoints.yml

(serving/__main__.py: the same arguments as `rasa run` / `rasa shell`). In-process
harnesses that build Rasa's Agent themselves (tests/understanding/) call
``install_server_extensions()`` directly. Each extension is logged by name at start-up:

    INFO serving.extensions - server extension installed: fault handling (serving/fault_handling.py)

Started the undocumented way (`rasa run`), none of this is installed, and the project's
channels refuse to start (``require_installed``), saying why and how to start it.

The tracker store and the lock store are Rasa classes configured in the endpoints file,
not something a function can install; the list reads the endpoints file and records
(or warns) which ones this server will use.

Importing this module changes nothing.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pluggy
from rasa.shared.exceptions import RasaException

logger = logging.getLogger(__name__)

LAUNCHER = "python -m serving run"
OUR_TRACKER_STORE = "serving.tracker_store.ResilientSQLTrackerStore"
OUR_LOCK_STORE = "serving.lock_store.AtomicRedisLockStore"


@dataclass(frozen=True)
class StartUp:
    """What the extensions may look at: the server's command line, environment and endpoints file."""

    argv: Sequence[str] = ()
    environ: Mapping[str, str] = None  # type: ignore[assignment]
    endpoints: str | None = None  # the endpoints file Rasa will read; None: the caller builds its own stores


@dataclass(frozen=True)
class Outcome:
    installed: bool  # False: deliberately left out (the note says why), the server still starts
    note: str = ""


@dataclass(frozen=True)
class Extension:
    name: str
    source: str
    install: Callable[[StartUp], Outcome]


# --------------------------------------------------------------------------- the extensions


def _production_settings(start: StartUp) -> Outcome:
    from security.production_settings import is_production, refuse_unsafe_production_settings

    refuse_unsafe_production_settings("rasa", start.environ, start.argv)  # exits 2 when unsafe
    return Outcome(
        True,
        "production mode, settings safe"
        if is_production(start.environ)
        else "not production mode (SCREENING_ENV), nothing to check",
    )


def _log_redaction(start: StartUp) -> Outcome:
    from security import log_redaction

    if log_redaction.is_installed():
        return Outcome(True, "already on through --logging-config-file security/logging.yml")
    log_redaction.install()
    return Outcome(True, "switched on here (no --logging-config-file security/logging.yml)")


def _action_response_validation(start: StartUp) -> Outcome:
    from serving import action_response_validation

    if action_response_validation.install():
        return Outcome(True, "schema checked once at start-up")
    return Outcome(False, "left as Rasa's own (other Rasa or jsonschema version; see the warning above)")


def _fault_handling(start: StartUp) -> Outcome:
    from serving import fault_handling

    fault_handling.install()  # refuses (RuntimeError) another Rasa version
    return Outcome(True, "apology for failed turns, action timeout from the endpoints file")


def _endpoint_type(start: StartUp, section: str) -> str | None:
    """The `type` the endpoints file gives `section`, "" when the section is absent."""
    import yaml

    with open(start.endpoints, encoding="utf-8") as handle:
        config = yaml.safe_load(handle) or {}
    entry = config.get(section) or {}
    return str(entry.get("type") or "") if isinstance(entry, Mapping) else ""


def _tracker_store(start: StartUp) -> Outcome:
    if not start.endpoints:
        return Outcome(False, "no endpoints file: this process builds its own tracker store")
    configured = _endpoint_type(start, "tracker_store")
    if configured == OUR_TRACKER_STORE:
        return Outcome(True, f"tracker_store in {start.endpoints}")
    return Outcome(
        False,
        f"{start.endpoints} configures tracker store {configured or 'none (in memory)'!r}: "
        "action-server faults still get the apology, but a database outage is not ridden "
        "out (Rasa falls back to an in-memory store; docs/faults.md)",
    )


def _lock_store(start: StartUp) -> Outcome:
    if not start.endpoints:
        return Outcome(False, "no endpoints file: Rasa's in-memory lock store")
    configured = _endpoint_type(start, "lock_store")
    if configured == OUR_LOCK_STORE:
        return Outcome(True, f"lock_store in {start.endpoints}")
    if "redis" in configured.lower():
        return Outcome(
            False,
            f"{start.endpoints} configures lock store {configured!r}, whose ticket updates are "
            "not atomic across servers (RasaHQ/rasa #9213; docs/deployment.md)",
        )
    return Outcome(
        False,
        f"{start.endpoints} has lock store {configured or 'none'!r}: Rasa's in-memory lock "
        "store, right for one Rasa server only",
    )


# The list. Order matters: the production check first, so a server that must not start
# changes nothing and sees whether the logging config itself switched redaction on (from
# Rasa's first log record); then redaction, before anything else can log.
SERVER_EXTENSIONS: list[Extension] = [
    Extension("production-settings check", "security/production_settings.py", _production_settings),
    Extension("log redaction", "security/log_redaction.py", _log_redaction),
    Extension("action-response validation", "serving/action_response_validation.py", _action_response_validation),
    Extension("fault handling", "serving/fault_handling.py", _fault_handling),
    Extension("resilient tracker store", "serving/tracker_store.py", _tracker_store),
    Extension("atomic lock store", "serving/lock_store.py", _lock_store),
]

# What install_server_extensions did in this process, by extension name.
_outcomes: dict[str, Outcome] = {}


def install_server_extensions(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None, endpoints: str | None = None
) -> dict[str, Outcome]:
    """Installs every server extension once, in order, logging each by name; idempotent.

    argv/environ: the server's command line and environment (the production check reads
    them; default sys.argv / os.environ). endpoints: the endpoints file Rasa will load
    (None for a caller that builds its own stores)."""
    if _outcomes:
        return dict(_outcomes)
    start = StartUp(
        tuple(sys.argv if argv is None else argv),
        os.environ if environ is None else environ,
        endpoints if endpoints and Path(endpoints).is_file() else None,
    )
    outcomes: dict[str, Outcome] = {}
    for extension in SERVER_EXTENSIONS:
        outcome = extension.install(start)
        outcomes[extension.name] = outcome
        if outcome.installed:
            logger.info("server extension installed: %s (%s): %s", extension.name, extension.source, outcome.note)
        else:
            logger.warning("server extension not in use: %s (%s): %s", extension.name, extension.source, outcome.note)
    _outcomes.update(outcomes)
    return dict(outcomes)


def installed() -> dict[str, Outcome]:
    """What install_server_extensions did in this process (empty: it was not called)."""
    return dict(_outcomes)


class ServerExtensionsMissing(RasaException):
    """The Rasa server was started without the project's launcher."""


def require_installed(channel: str) -> None:
    """Called by the project's channels at start-up: refuses to serve patients when the
    server was started without its extensions (plain `rasa run`)."""
    if _outcomes:
        return
    names = ", ".join(extension.name for extension in SERVER_EXTENSIONS)
    raise ServerExtensionsMissing(
        f"{channel} refuses to start: this Rasa server was started without the project's server extensions "
        f"({names}), so a patient whose turn fails would get no apology and unsafe production settings would "
        f"go unchecked. Start it with `{LAUNCHER} ...` (the same arguments as `rasa run`) or "
        f'`python -m serving shell ...`, not `rasa run`: see docs/deployment.md, "Server extensions".'
    )


# ------------------------------------------------------------------ the hook in Rasa's CLI

_hookimpl = pluggy.HookimplMarker("rasa")


class InstallBeforeTheCommand:
    """A plugin for Rasa's own plugin manager (rasa/plugin.py), registered by the launcher
    (serving/__main__.py): Rasa's CLI calls `configure_commandline` after it has read the
    logging config and before it runs the command, so the extensions are installed and
    logged with the server's logging, and before any channel or store is loaded."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = environ

    @_hookimpl
    def configure_commandline(self, cmdline_arguments) -> None:
        install_server_extensions(sys.argv, self.environ, getattr(cmdline_arguments, "endpoints", None))
        return None  # Rasa reads a non-None result as an endpoints file for its own plugins
