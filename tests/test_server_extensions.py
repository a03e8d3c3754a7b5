"""The Rasa server's extensions are one explicit list (serving/extensions.py), installed in
order by one function, each once and logged by name; importing the project's packages
installs nothing; a server started without them refuses to serve patients."""

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from serving import extensions
from serving.extensions import (
    SERVER_EXTENSIONS,
    Extension,
    Outcome,
    ServerExtensionsMissing,
    StartUp,
    install_server_extensions,
    require_installed,
)

ROOT = Path(__file__).resolve().parents[1]

EXPECTED = [
    ("production-settings check", "security/production_settings.py"),
    ("log redaction", "security/log_redaction.py"),
    ("action-response validation", "serving/action_response_validation.py"),
    ("fault handling", "serving/fault_handling.py"),
    ("resilient tracker store", "serving/tracker_store.py"),
    ("atomic lock store", "serving/lock_store.py"),
]


def test_the_list_names_every_server_extension_in_order_and_each_source_exists():
    assert [(e.name, e.source) for e in SERVER_EXTENSIONS] == EXPECTED
    for extension in SERVER_EXTENSIONS:
        assert (ROOT / extension.source).is_file()


@pytest.fixture
def fresh(monkeypatch):
    """A process in which install_server_extensions has not run yet."""
    monkeypatch.setattr(extensions, "_outcomes", {})


def test_install_runs_each_extension_once_in_order_and_logs_each_by_name(fresh, monkeypatch, caplog):
    calls = []

    def fake(name, installed=True):
        def install(start: StartUp) -> Outcome:
            calls.append((name, start.argv, start.endpoints))
            return Outcome(installed, f"note of {name}")

        return install

    listed = [Extension(name, source, fake(name, installed=name != "atomic lock store")) for name, source in EXPECTED]
    monkeypatch.setattr(extensions, "SERVER_EXTENSIONS", listed)
    endpoints = str(ROOT / "endpoints.yml")
    with caplog.at_level(logging.INFO, logger="serving.extensions"):
        first = install_server_extensions(argv=["rasa", "run"], environ={}, endpoints=endpoints)
        second = install_server_extensions(argv=["rasa", "run"], environ={}, endpoints=endpoints)
    assert [name for name, *_ in calls] == [name for name, _ in EXPECTED]  # each once, in order
    assert all(argv == ("rasa", "run") and file == endpoints for _, argv, file in calls)
    assert first == second == extensions.installed()
    lines = [r.getMessage() for r in caplog.records if r.name == "serving.extensions"]
    for name, source in EXPECTED[:-1]:
        assert lines.count(f"server extension installed: {name} ({source}): note of {name}") == 1, lines
    assert (
        lines.count("server extension not in use: atomic lock store (serving/lock_store.py): note of atomic lock store")
        == 1
    )
    assert len(lines) == len(EXPECTED)  # the second call logged nothing


def test_a_server_without_the_extensions_is_refused_with_why_and_how(fresh):
    with pytest.raises(ServerExtensionsMissing) as refused:
        require_installed("channels.rest_guarded.GuardedRestInput")
    message = str(refused.value)
    assert "channels.rest_guarded.GuardedRestInput refuses to start" in message
    assert all(name in message for name, _ in EXPECTED)
    assert "python -m serving run" in message and "docs/deployment.md" in message


def test_each_project_channel_refuses_a_server_without_the_extensions(fresh):
    from channels.rest_guarded import GuardedRestInput
    from channels.telegram import TelegramVerifiedInput
    from channels.twilio import TwilioVerifiedInput

    for channel, credentials in [
        (GuardedRestInput, None),
        (TwilioVerifiedInput, {"account_sid": "AC1", "auth_token": "t", "webhook_url": "https://x"}),
        (TelegramVerifiedInput, {"bot_token": "1:a", "secret_token": "ok"}),
    ]:
        with pytest.raises(ServerExtensionsMissing, match=f"{channel.__name__} refuses to start"):
            channel.from_credentials(credentials)


def test_the_launcher_installs_then_starts_the_channel(monkeypatch):
    from channels.rest_guarded import GuardedRestInput

    monkeypatch.setattr(extensions, "_outcomes", {"fault handling": Outcome(True)})
    assert isinstance(GuardedRestInput.from_credentials(None), GuardedRestInput)


@pytest.mark.parametrize(
    "endpoints,installed,words",
    [
        ("tracker_store:\n  type: serving.tracker_store.ResilientSQLTrackerStore\n", True, "tracker_store in"),
        ("tracker_store:\n  type: SQL\n", False, "action-server faults still get the apology"),
        ("action_endpoint:\n  url: http://x\n", False, "none (in memory)"),
    ],
)
def test_the_tracker_store_entry_records_what_the_endpoints_file_configures(tmp_path, endpoints, installed, words):
    path = tmp_path / "endpoints.yml"
    path.write_text(endpoints)
    outcome = extensions._tracker_store(StartUp(endpoints=str(path)))
    assert outcome.installed is installed and words in outcome.note


@pytest.mark.parametrize(
    "endpoints,installed,words",
    [
        ("lock_store:\n  type: serving.lock_store.AtomicRedisLockStore\n", True, "lock_store in"),
        ("lock_store:\n  type: redis\n", False, "not atomic across servers"),
        ("tracker_store:\n  type: SQL\n", False, "one Rasa server only"),
    ],
)
def test_the_lock_store_entry_records_what_the_endpoints_file_configures(tmp_path, endpoints, installed, words):
    path = tmp_path / "endpoints.yml"
    path.write_text(endpoints)
    outcome = extensions._lock_store(StartUp(endpoints=str(path)))
    assert outcome.installed is installed and words in outcome.note


def test_the_launcher_refuses_anything_but_run_and_shell():
    for argv in ([], ["train"], ["run", "actions"]):
        result = subprocess.run(
            [sys.executable, "-m", "serving", *argv], cwd=ROOT, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 2
        assert "usage: python -m serving run|shell" in result.stderr and "python -m actions" in result.stderr


def run_python(code: str) -> dict:
    """Runs code in a fresh interpreter (this one's patches and logging are not its), returns its JSON."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "PYTHONWARNINGS": "ignore",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        },
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


STATE = """
def state():
    from rasa.core.actions.action import RemoteAction
    from rasa.core.processor import MessageProcessor
    from rasa.core.tracker_store import FailSafeTrackerStore
    from security import log_redaction
    return {
        "validation": bool(getattr(RemoteAction, "_screening_fast_validation", False)),
        "fault handling": [bool(getattr(getattr(owner, name), "_screening_fault_handling", False))
                           for owner, name in [(RemoteAction, "run"), (MessageProcessor, "_run_action"),
                                               (MessageProcessor, "handle_message"),
                                               (FailSafeTrackerStore, "on_tracker_store_error"),
                                               (FailSafeTrackerStore, "on_tracker_store_retrieve_error")]],
        "redaction": log_redaction.is_installed(),
    }
"""


def test_importing_the_packages_installs_nothing_and_runs_no_check():
    # In production mode with every setting unsafe: an import-time check would exit with status 2.
    code = (
        STATE
        + """
import json, os, sys
os.environ["SCREENING_ENV"] = "production"
import security.production_settings as settings
ran = []
settings.refuse_unsafe_production_settings = lambda *a, **k: ran.append(a)
import channels, serving, actions
import channels.rest_guarded, channels.twilio, channels.telegram
import serving.extensions, serving.tracker_store, serving.fault_handling, serving.lock_store
import serving.action_response_validation
import actions.conversation, actions.questionnaire, actions.outcome, actions.consultation
print(json.dumps({**state(), "checks run": len(ran), "installed": list(serving.extensions.installed())}))
"""
    )
    assert run_python(code) == {
        "validation": False,
        "fault handling": [False] * 5,
        "redaction": False,
        "checks run": 0,
        "installed": [],
    }


def test_the_real_list_installs_every_extension_once_and_logs_each(tmp_path):
    code = (
        STATE
        + f"""
import json, logging
records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append(record.getMessage())
logging.getLogger("serving.extensions").addHandler(Keep())
logging.getLogger("serving.extensions").setLevel(logging.INFO)
from serving.extensions import install_server_extensions
from rasa.core.processor import MessageProcessor
first = install_server_extensions(argv=["rasa", "run"], environ={{}}, endpoints={str(ROOT / "endpoints.yml")!r})
handle_message = MessageProcessor.handle_message
install_server_extensions(argv=["rasa", "run"], environ={{}}, endpoints={str(ROOT / "endpoints.yml")!r})
print(json.dumps({{**state(), "records": records, "installed": {{n: o.installed for n, o in first.items()}},
                  "patched once": MessageProcessor.handle_message is handle_message
                                  and not getattr(handle_message.__wrapped__, "_screening_fault_handling", False)}}))
"""
    )
    result = run_python(code)
    assert result["validation"] and result["fault handling"] == [True] * 5 and result["redaction"]
    assert result["patched once"]
    assert result["installed"] == {name: name != "atomic lock store" for name, _ in EXPECTED}
    for name, source in EXPECTED[:-1]:
        assert (
            sum(line.startswith(f"server extension installed: {name} ({source})") for line in result["records"]) == 1
        ), result["records"]
    assert (
        sum(
            line.startswith("server extension not in use: atomic lock store (serving/lock_store.py)")
            for line in result["records"]
        )
        == 1
    )
    assert len(result["records"]) == len(EXPECTED)


def test_fault_handling_does_not_import_the_tracker_store():
    """One direction only: the store raises fault_handling's exception; fault handling knows no store."""
    source = (ROOT / "serving" / "fault_handling.py").read_text()
    imports = [line for line in source.splitlines() if line.lstrip().startswith(("import ", "from "))]
    assert not any("tracker_store" in line and "rasa.core.tracker_store" not in line for line in imports), imports
    from serving.fault_handling import TrackerStoreUnavailable
    from serving.tracker_store import TrackerStoreUnavailable as reexported

    assert reexported is TrackerStoreUnavailable
