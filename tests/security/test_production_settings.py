"""Production mode (SCREENING_ENV=production) refuses missing, default or weak secrets and
unsafe exposure, for each process; outside production mode nothing is checked."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from security.production_settings import production_problems, weak_secret_reason

ROOT = Path(__file__).resolve().parents[2]
STRONG = "f3Kq9-Zr7LmW2xVb8NcT"  # fake, but long and varied enough to pass
STRONG_2 = "Hy6pQ2rT9wLk3sVz7Bn4"
# Channel tokens: fake and strong enough to pass, deliberately not shaped like real Twilio
# or Telegram tokens, so no secret scanner mistakes the test for a leak.
FAKE_TWILIO_TOKEN = "Tw4-fake-Rq8Lm3Zx7Vb2"
FAKE_TELEGRAM_TOKEN = "Tg6-fake-Pn9Ks2Wy5Hc8"
PRODUCTION_DB = f"postgresql://rasa:{STRONG}@postgres:5432/rasa"

SAFE_ENV = {
    "SCREENING_ENV": "production",
    "RASA_TELEMETRY_ENABLED": "false",
    "DB_PASSWORD": STRONG,
    "REDIS_PASSWORD": STRONG_2,
    "CONSULTATION_DB_URL": PRODUCTION_DB,
    "TRACKER_DB_URL": PRODUCTION_DB,
    "PORTAL_DB_URL": PRODUCTION_DB,
    "SANIC_HOST": "10.0.0.5",
    "TWILIO_AUTH_TOKEN": FAKE_TWILIO_TOKEN,
    "TELEGRAM_BOT_TOKEN": FAKE_TELEGRAM_TOKEN,
    "TELEGRAM_WEBHOOK_SECRET": STRONG_2,
    "RASA_TRUSTED_PROXIES": "10.0.0.2",  # the balancer
    "PORTAL_TRUSTED_PROXIES": "none",  # staff connect directly
}
RASA_ARGV = [
    "rasa",
    "run",
    "--model",
    "models/screening.tar.gz",
    "--endpoints",
    "endpoints.production.yml",
    "--credentials",
    "credentials.channels.yml",
    "--port",
    "5005",
    "--cors",
    "https://www.clinic.example",
    "--logging-config-file",
    "security/logging.yml",
]


def read_repo_yaml(path):
    return yaml.safe_load((ROOT / path).read_text())


def rasa(env=None, argv=RASA_ARGV, **changes):
    environ = {**SAFE_ENV, **(env or {})}
    return production_problems("rasa", environ, argv, read_yaml=read_repo_yaml, **changes)


def test_the_documented_production_settings_pass_for_every_process():
    assert rasa() == []
    assert production_problems("actions", SAFE_ENV) == []
    assert production_problems("portal", SAFE_ENV) == []


def test_nothing_is_checked_outside_production_mode():
    local = {"PORTAL_INSECURE_COOKIES": "1", "DB_PASSWORD": ""}
    assert production_problems("portal", local) == []
    assert (
        production_problems(
            "rasa", {"SCREENING_ENV": "development"}, ["rasa", "run", "--enable-api"], read_yaml=read_repo_yaml
        )
        == []
    )


@pytest.mark.parametrize(
    "value, reason",
    [
        ("", "is empty"),
        ("changeme", "default or placeholder"),
        ("Password", "default or placeholder"),
        ("e2e-test-token", "default or placeholder"),
        ("your-token-here-please", "default or placeholder"),
        ("a1b2c3d4", "too short"),
        ("aaaaaaaaaaaaaaaaaaaaaaa", "too few different characters"),
    ],
)
def test_weak_secrets_are_named(value, reason):
    assert reason in weak_secret_reason(value)


def test_the_api_is_never_enabled_without_a_token_or_jwt():
    problems = rasa(argv=RASA_ARGV + ["--enable-api", "--interface", "127.0.0.1"])
    assert len(problems) == 1 and "without --auth-token or --jwt-secret" in problems[0]
    assert rasa(argv=RASA_ARGV + ["--enable-api", "-i", "127.0.0.1", "--auth-token", STRONG]) == []
    assert rasa(argv=RASA_ARGV + ["--enable-api", "-i", "127.0.0.1", "--jwt-secret", STRONG]) == []


def test_a_weak_api_token_is_refused_without_printing_it():
    problems = rasa(argv=RASA_ARGV + ["--enable-api", "-i", "127.0.0.1", "--auth-token", "e2e-test-token"])
    assert problems == ["the API token (--auth-token, RASA_API_TOKEN) is a default or placeholder value."]


@pytest.mark.parametrize(
    "interface, private_network, refused",
    [
        (None, "", True),  # Rasa's default: 0.0.0.0, every interface
        ("0.0.0.0", "", True),
        ("203.0.113.10", "", True),  # a public address
        ("0.0.0.0", "1", False),  # declared: a container network without published ports
        ("127.0.0.1", "", False),
        ("10.1.2.3", "", False),
        ("192.168.1.20", "", False),
    ],
)
def test_the_api_listens_only_on_localhost_or_a_private_network(interface, private_network, refused):
    argv = RASA_ARGV + ["--enable-api", "--auth-token", STRONG] + (["--interface", interface] if interface else [])
    problems = rasa(env={"SCREENING_PRIVATE_NETWORK": private_network}, argv=argv)
    assert bool(problems) is refused, problems
    if refused:
        assert "Rasa's HTTP API listens on" in problems[0]


def test_the_webhooks_alone_may_listen_on_every_interface():
    assert rasa(argv=RASA_ARGV + ["--interface", "0.0.0.0"]) == []


@pytest.mark.parametrize(
    "variable, value",
    [("DB_PASSWORD", ""), ("DB_PASSWORD", "postgres"), ("REDIS_PASSWORD", ""), ("REDIS_PASSWORD", "short")],
)
def test_store_passwords_come_from_the_environment_and_are_strong(variable, value):
    problems = rasa(env={variable: value})
    assert len(problems) == 1 and f"({variable})" in problems[0]
    assert "endpoints.production.yml" in problems[0]


@pytest.mark.parametrize("variable", ["TWILIO_AUTH_TOKEN", "TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET"])
def test_channel_secrets_are_checked_when_the_channel_is_configured(variable):
    problems = rasa(env={variable: ""})
    assert len(problems) == 1 and "credentials.channels.yml" in problems[0] and "is empty" in problems[0]
    # With only the REST channel configured, channel tokens are not needed.
    only_rest = [a if a != "credentials.channels.yml" else "credentials.yml" for a in RASA_ARGV]
    assert rasa(env={variable: ""}, argv=only_rest) == []


def test_a_secret_written_in_a_config_file_is_refused():
    files = {
        "endpoints.yml": {"tracker_store": {"type": "SQL", "dialect": "postgresql", "password": STRONG}},
        "credentials.yml": {"rest": None, "telegram": {"access_token": STRONG_2}},
    }
    argv = ["rasa", "run", "--endpoints", "endpoints.yml", "--credentials", "credentials.yml"]
    problems = production_problems("rasa", SAFE_ENV, argv, read_yaml=files.__getitem__)
    assert problems == [
        "endpoints.yml: tracker_store.password is written in the file; use an environment variable (${NAME}).",
        "credentials.yml: telegram.access_token is written in the file; use an environment variable (${NAME}).",
    ]
    assert all(STRONG not in p and STRONG_2 not in p for p in problems)


@pytest.mark.parametrize("origin", ["*", "http://www.clinic.example"])
def test_cors_must_name_https_sites(origin):
    problems = rasa(argv=RASA_ARGV + ["--cors", origin])
    assert len(problems) == 1 and "--cors" in problems[0]


@pytest.mark.parametrize("env, argv", [({"LOG_LEVEL": "DEBUG"}, []), ({}, ["-vv"]), ({}, ["--debug"])])
def test_debug_logging_is_refused(env, argv):
    assert any("debug logging" in p for p in rasa(env=env, argv=RASA_ARGV + argv))
    assert any("debug logging" in p for p in production_problems("actions", {**SAFE_ENV, **env}, argv))


@pytest.mark.parametrize("process", ["rasa", "actions"])
@pytest.mark.parametrize("value", [None, "", "true"])
def test_rasa_telemetry_must_be_switched_off(process, value):
    env = {k: v for k, v in SAFE_ENV.items() if k != "RASA_TELEMETRY_ENABLED"}
    if value is not None:
        env["RASA_TELEMETRY_ENABLED"] = value
    argv = RASA_ARGV if process == "rasa" else []
    problems = production_problems(process, env, argv, read_yaml=read_repo_yaml)
    assert len(problems) == 1 and "RASA_TELEMETRY_ENABLED=false" in problems[0]


def test_without_log_redaction_no_process_starts():
    for process in ("actions", "portal"):
        assert production_problems(process, SAFE_ENV, redaction_installed=False) == [
            "log redaction is not installed: start with the logging config security/logging.yml (docs/deployment.md)."
        ]


def test_action_server_needs_a_database_url_with_a_real_password_and_a_private_interface():
    env = {**SAFE_ENV}
    del env["CONSULTATION_DB_URL"]
    assert "CONSULTATION_DB_URL is not set" in production_problems("actions", env)[0]
    weak = {**SAFE_ENV, "CONSULTATION_DB_URL": "postgresql://rasa:rasa@postgres/rasa"}
    assert production_problems("actions", weak) == [
        "the database password in CONSULTATION_DB_URL is a default or placeholder value."
    ]
    local_socket = {**SAFE_ENV, "CONSULTATION_DB_URL": "postgresql:///rasa"}  # peer authentication
    assert production_problems("actions", local_socket) == []
    public = {**SAFE_ENV, "SANIC_HOST": "0.0.0.0"}
    assert "The action server listens on 0.0.0.0" in production_problems("actions", public)[0]


def test_portal_needs_secure_cookies_and_real_databases():
    assert "PORTAL_INSECURE_COOKIES=1" in production_problems("portal", {**SAFE_ENV, "PORTAL_INSECURE_COOKIES": "1"})[0]
    env = {**SAFE_ENV}
    del env["PORTAL_DB_URL"]
    assert "PORTAL_DB_URL is not set" in production_problems("portal", env)[0]
    assert (
        "The staff portal listens on 0.0.0.0"
        in production_problems("portal", {**SAFE_ENV, "PORTAL_HOST": "0.0.0.0"})[0]
    )


# ---- trusted proxies (issue 26): the per-address limits must count visitors, not the proxy


def without(*names):
    return {k: v for k, v in SAFE_ENV.items() if k not in names}


def test_rasa_refuses_to_start_without_its_trusted_proxy_or_an_explicit_none():
    [problem] = production_problems("rasa", without("RASA_TRUSTED_PROXIES"), RASA_ARGV, read_yaml=read_repo_yaml)
    assert problem.startswith("RASA_TRUSTED_PROXIES (or trusted_proxies under channels.rest_guarded.GuardedRestInput)")
    assert "is not set" in problem and "'none'" in problem
    assert rasa({"RASA_TRUSTED_PROXIES": "none"}) == []
    assert rasa({"RASA_TRUSTED_PROXIES": "10.0.0.2, fd00::2"}) == []
    [invalid] = rasa({"RASA_TRUSTED_PROXIES": "balancer"})
    assert "'balancer' is not an IP address" in invalid


def test_rasas_trusted_proxy_may_come_from_the_rest_channels_entry_instead():
    def credentials(entry):
        return lambda path: {"channels.rest_guarded.GuardedRestInput": entry} if "credentials" in path else {}

    env = without("RASA_TRUSTED_PROXIES")
    assert production_problems("rasa", env, RASA_ARGV, read_yaml=credentials({"trusted_proxies": "10.0.0.2"})) == []
    assert production_problems("rasa", env, RASA_ARGV, read_yaml=credentials({"trusted_proxies": "none"})) == []
    by_reference = credentials({"trusted_proxies": "${MY_PROXY}"})
    assert production_problems("rasa", {**env, "MY_PROXY": "10.0.0.9"}, RASA_ARGV, read_yaml=by_reference) == []
    assert "is not set" in production_problems("rasa", env, RASA_ARGV, read_yaml=by_reference)[0]
    assert "is not set" in production_problems("rasa", env, RASA_ARGV, read_yaml=credentials(None))[0]
    # a server without the REST channel has no per-address limit to configure
    no_rest = lambda path: {"channels.telegram.TelegramVerifiedInput": {}} if "credentials" in path else {}  # noqa: E731
    assert production_problems("rasa", env, RASA_ARGV, read_yaml=no_rest) == []


def test_the_portal_refuses_to_start_without_its_trusted_proxy_or_an_explicit_none():
    [problem] = production_problems("portal", without("PORTAL_TRUSTED_PROXIES"))
    assert problem.startswith("PORTAL_TRUSTED_PROXIES is not set") and "'none'" in problem
    assert production_problems("portal", {**SAFE_ENV, "PORTAL_TRUSTED_PROXIES": "127.0.0.1"}) == []
    assert "not an IP address" in production_problems("portal", {**SAFE_ENV, "PORTAL_TRUSTED_PROXIES": "proxy"})[0]
    # outside production mode it is optional: no proxy is trusted
    assert production_problems("portal", {"PORTAL_INSECURE_COOKIES": "1"}) == []


def test_compose_names_the_balancer_as_the_rasa_servers_trusted_proxy():
    compose = read_repo_yaml("deploy/docker-compose.yml")
    balancer = compose["services"]["balancer"]["networks"]["default"]["ipv4_address"]
    rasa_servers = [name for name in compose["services"] if name.startswith("rasa-")]
    assert rasa_servers and all(
        compose["services"][name]["environment"]["RASA_TRUSTED_PROXIES"] == balancer for name in rasa_servers
    )


def run_command(command, env):
    clean = {k: v for k, v in os.environ.items() if k not in SAFE_ENV and not k.startswith("PORTAL_")}
    return subprocess.run(command, cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=120)


def test_the_portal_refuses_to_start_in_production_with_insecure_settings():
    result = run_command(
        [sys.executable, "-m", "portal"],
        {**SAFE_ENV, "PORTAL_INSECURE_COOKIES": "1", "PORTAL_DB_URL": "postgresql://rasa:changeme@127.0.0.1:1/rasa"},
    )
    assert result.returncode == 2, result.stderr
    assert "portal refuses to start in production mode: PORTAL_INSECURE_COOKIES=1" in result.stderr
    assert "the database password in PORTAL_DB_URL is a default or placeholder value" in result.stderr
    assert "changeme" not in result.stderr + result.stdout  # the secret itself is never printed


def test_the_portal_process_refuses_to_start_in_production_without_its_trusted_proxy():
    result = run_command([sys.executable, "-m", "portal"], without("PORTAL_TRUSTED_PROXIES"))
    assert result.returncode == 2, result.stderr
    assert "portal refuses to start in production mode: PORTAL_TRUSTED_PROXIES is not set" in result.stderr


def test_the_portal_refuses_a_trusted_proxy_that_is_not_an_address_in_any_mode():
    result = run_command([sys.executable, "-m", "portal"], {"PORTAL_TRUSTED_PROXIES": "proxy.clinic.example"})
    assert result.returncode == 2
    assert "PORTAL_TRUSTED_PROXIES: 'proxy.clinic.example' is not an IP address" in result.stderr


def test_the_action_server_refuses_to_start_in_production_without_redaction_or_database():
    env = {k: v for k, v in SAFE_ENV.items() if k != "CONSULTATION_DB_URL"}
    result = run_command([sys.executable, "-m", "actions", "--port", "1", "--actions", "actions"], env)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "actions refuses to start in production mode: log redaction is not installed" in output
    assert "CONSULTATION_DB_URL is not set" in output


def test_the_rasa_server_hook_stops_the_process_with_status_2(capsys):
    # What the server extensions' production-settings check calls at start-up (serving/extensions.py).
    from security.production_settings import refuse_unsafe_production_settings

    argv = [
        "rasa",
        "run",
        "--endpoints",
        str(ROOT / "endpoints.production.yml"),
        "--credentials",
        str(ROOT / "credentials.yml"),
        "--enable-api",
    ]
    with pytest.raises(SystemExit) as stopped:
        refuse_unsafe_production_settings("rasa", {**SAFE_ENV, "DB_PASSWORD": "changeme"}, argv)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "rasa refuses to start in production mode: Rasa's HTTP API is enabled (--enable-api) without" in err
    assert "tracker_store.password (DB_PASSWORD) is a default or placeholder value" in err
    assert "changeme" not in err
    # With safe settings it returns and the server starts.
    safe = [
        "rasa",
        "run",
        "--endpoints",
        str(ROOT / "endpoints.production.yml"),
        "--credentials",
        str(ROOT / "credentials.yml"),
        "--logging-config-file",
        "security/logging.yml",
    ]
    from security import log_redaction

    log_redaction.install()
    try:
        assert refuse_unsafe_production_settings("rasa", SAFE_ENV, safe) is None
    finally:
        log_redaction.uninstall()
