"""The Rasa server stops at start-up in production mode with unsafe settings, through the
production-settings check in the server extensions that the launcher installs
(`python -m serving run`, serving/extensions.py; docs/deployment.md), and refuses to start
at all when started the undocumented way (`rasa run`), without them.
Starts real Rasa server processes, so it is in the e2e group."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
RASA = str(Path(sys.executable).parent / "rasa")  # Rasa's own CLI: the undocumented way
LAUNCHER = [sys.executable, "-m", "serving", "run"]  # the documented entry point
TOKEN = "Zq8-fake-token-Lw3Rt7Yp"  # fake, strong enough to pass


def start_rasa(tmp_path, extra_args, env):
    credentials = tmp_path / "credentials.yml"
    credentials.write_text("channels.rest_guarded.GuardedRestInput:\n")
    command = [
        *LAUNCHER,
        "--credentials",
        str(credentials),
        "--endpoints",
        str(ROOT / "endpoints.yml"),
        "--port",
        "1",
        "--model",
        str(tmp_path / "no-model"),
        *extra_args,
    ]
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "SCREENING_ENV": "production", **env}
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300)


def test_rasa_refuses_to_start_with_the_api_open(tmp_path):
    result = start_rasa(tmp_path, ["--enable-api", "--logging-config-file", "security/logging.yml"], {})
    output = result.stdout + result.stderr
    assert result.returncode == 2, output[-3000:]
    assert "rasa refuses to start in production mode: Rasa's HTTP API is enabled (--enable-api) without" in output
    assert "Rasa's HTTP API listens on 0.0.0.0" in output


def test_rasa_refuses_to_start_without_log_redaction_or_with_a_weak_token(tmp_path):
    result = start_rasa(tmp_path, ["--enable-api", "--auth-token", "e2e-test-token", "-i", "127.0.0.1"], {})
    output = result.stdout + result.stderr
    assert result.returncode == 2, output[-3000:]
    assert "log redaction is not installed" in output
    assert "the API token (--auth-token, RASA_API_TOKEN) is a default or placeholder value" in output
    assert "e2e-test-token" not in output.split("refuses to start", 1)[1]  # never echoed


def test_rasa_refuses_to_start_without_its_trusted_proxy_or_an_explicit_none(tmp_path):
    # Issue 26: behind the balancer, without it every visitor shares one per-address bucket.
    safe = {"RASA_TELEMETRY_ENABLED": "false", "RASA_TRUSTED_PROXIES": ""}
    result = start_rasa(tmp_path, ["--logging-config-file", "security/logging.yml"], safe)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output[-3000:]
    assert (
        "rasa refuses to start in production mode: RASA_TRUSTED_PROXIES "
        "(or trusted_proxies under channels.rest_guarded.GuardedRestInput) is not set" in output
    )


def test_rasa_starts_in_production_mode_with_safe_settings(tmp_path):
    import requests

    from tests.support.servers import free_port, wait_until_up

    credentials = tmp_path / "credentials.yml"
    credentials.write_text("channels.rest_guarded.GuardedRestInput:\n")
    port = free_port()
    log = tmp_path / "rasa.log"
    process = subprocess.Popen(
        [
            *LAUNCHER,
            "--credentials",
            str(credentials),
            "--endpoints",
            str(ROOT / "endpoints.yml"),
            "--port",
            str(port),
            "--model",
            str(tmp_path / "no-model"),
            "-i",
            "127.0.0.1",
            "--enable-api",
            "--auth-token",
            TOKEN,
            "--logging-config-file",
            "security/logging.yml",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "SCREENING_ENV": "production",
            "RASA_TELEMETRY_ENABLED": "false",
            "RASA_TRUSTED_PROXIES": "none",  # clients connect directly: nothing in front of it here
        },
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", process, log)
        assert requests.get(f"http://127.0.0.1:{port}/status", timeout=10).status_code == 401
        text = log.read_text()
        assert "rasa: production settings checked, none unsafe." in text
        for name, source in [
            ("production-settings check", "security/production_settings.py"),
            ("log redaction", "security/log_redaction.py"),
            ("action-response validation", "serving/action_response_validation.py"),
            ("fault handling", "serving/fault_handling.py"),
            ("resilient tracker store", "serving/tracker_store.py"),
        ]:
            assert text.count(f"server extension installed: {name} ({source})") == 1, text[-3000:]
        assert "server extension not in use: atomic lock store (serving/lock_store.py)" in text
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_rasa_started_without_the_launcher_refuses_to_serve_and_says_how_to_start(tmp_path):
    credentials = tmp_path / "credentials.yml"
    credentials.write_text("channels.rest_guarded.GuardedRestInput:\n")
    result = subprocess.run(
        [
            RASA,
            "run",
            "--credentials",
            str(credentials),
            "--endpoints",
            str(ROOT / "endpoints.yml"),
            "--port",
            "1",
            "--model",
            str(tmp_path / "no-model"),
            "-i",
            "127.0.0.1",
            "--enable-api",
            "--auth-token",
            TOKEN,
        ],  # the API lets Rasa start without a model
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert (
        "channels.rest_guarded.GuardedRestInput refuses to start: this Rasa server was started without "
        "the project's server extensions"
    ) in output, output[-3000:]
    assert "Start it with `python -m serving run ...`" in output
    assert "Rasa server is up and running" not in output
