"""Static checks of the committed configuration: no literal secrets, Rasa's HTTP API never
enabled without a token, and the deployment exposes only the chat webhooks."""

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONFIG_FILES = sorted(
    [
        *ROOT.glob("credentials*.yml"),
        *ROOT.glob("endpoints*.yml"),
        *(p for p in (ROOT / "deploy").iterdir() if p.is_file()),
    ]
)
LAUNCHERS = [
    ROOT / "scripts" / "run.sh",
    ROOT / "deploy" / "Dockerfile",
    ROOT / "deploy" / "docker-compose.yml",
    ROOT / "docs" / "deployment.md",
    ROOT / "tests" / "support" / "servers.py",
    ROOT / "tests" / "support" / "cluster.py",
]
NGINX_CONFIGS = [ROOT / "deploy" / "nginx.conf", ROOT / "deploy" / "nginx.docker.conf"]

SECRET_KEY = re.compile(r"pass(word)?|secret|token|api_?key|private_?key|requirepass", re.I)
ENV_REFERENCE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:[?-][^}]*)?\}$")
# Shapes of real credentials, whatever key they sit under.
CREDENTIAL_SHAPES = {
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "Telegram bot token": re.compile(r"\b\d{8,10}:[A-Za-z0-9_-]{35}\b"),
    "Twilio auth token or API key": re.compile(r"\b(?:SK)?[0-9a-f]{32}\b"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "password in a URL": re.compile(r"://[^/\s:@]+:(?!\$\{)[^@\s/]+@"),
}


def _walk(value, path="") -> Iterator[tuple[str, object]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")
    else:
        yield path, value


def literal_secrets(text: str, yaml_file: bool) -> list[str]:
    """Where a committed file holds a secret instead of an environment reference."""
    found = [
        f"{name} on line {text[: m.start()].count(chr(10)) + 1}"
        for name, shape in CREDENTIAL_SHAPES.items()
        for m in shape.finditer(text)
    ]
    if yaml_file:
        for path, value in _walk(yaml.safe_load(text) or {}):
            last_key = re.split(r"[.\[]", path)[-1]
            if SECRET_KEY.search(last_key) and value not in (None, "") and not ENV_REFERENCE.match(str(value)):
                found.append(f"{path} = a literal value")
            # command lines in compose files: "--requirepass", "<value>"
        for match in re.finditer(r'"--(?:requirepass|auth-token|jwt-secret)",\s*"([^"]*)"', text):
            if not ENV_REFERENCE.match(match.group(1)):
                found.append(f"a literal value after {match.group(0).split(',')[0]}")
    for match in re.finditer(r"--(?:auth-token|jwt-secret)[ =]+(\S+)", text):
        if not re.match(r'^"?\$', match.group(1)) and not match.group(1).startswith("API_TOKEN"):
            found.append(f"a literal {match.group(0).split()[0]}")
    return found


@pytest.mark.parametrize("path", CONFIG_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_committed_config_holds_no_secret(path):
    assert literal_secrets(path.read_text(), path.suffix in (".yml", ".yaml")) == []


@pytest.mark.parametrize(
    "bad, yaml_file",
    [
        ("tracker_store:\n  password: hunter2hunter2\n", True),
        ('rest:\ntelegram:\n  access_token: "fake-bot-token-for-the-scanner-test"\n', True),
        ("environment:\n  DB_URL: postgresql://rasa:s3cret@db/rasa\n", True),
        ('command: ["redis-server", "--requirepass", "s3cretpw"]\n', True),
        ("CMD rasa run --enable-api --auth-token abc123\n", False),
        ("-----BEGIN RSA " + "PRIVATE KEY-----\nMIIE\n", False),  # split: no key header in the source
    ],
)
def test_the_secret_scanner_finds_literal_secrets(bad, yaml_file):
    assert literal_secrets(bad, yaml_file)


def test_the_secret_scanner_accepts_environment_references():
    good = (
        'tracker_store:\n  password: ${DB_PASSWORD}\nx:\n  url: "postgresql://rasa:${DB_PASSWORD}@db/rasa"\n'
        'command: ["redis-server", "--requirepass", "${REDIS_PASSWORD:?set REDIS_PASSWORD}"]\n'
    )
    assert literal_secrets(good, True) == []


def _commands_enabling_the_api(text: str) -> list[str]:
    """Each command (shell line, JSON exec form, python list) that mentions --enable-api."""
    joined = re.sub(r"\\\n", " ", text)  # shell line continuations
    return [line for line in joined.splitlines() if "--enable-api" in line and not line.lstrip().startswith("#")]


def _python_commands_enabling_the_api(text: str) -> list[str]:
    """Each list literal in Python source with "--enable-api" in it, as its string items
    joined by spaces: however the formatter lays the list out over lines."""
    commands = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.List):
            words = [item.value for item in node.elts if isinstance(item, ast.Constant) and isinstance(item.value, str)]
            if "--enable-api" in words:
                commands.append(" ".join(words))
    return commands


@pytest.mark.parametrize("path", LAUNCHERS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_api_is_never_enabled_without_a_token(path):
    text = path.read_text()
    commands = _python_commands_enabling_the_api(text) if path.suffix == ".py" else _commands_enabling_the_api(text)
    assert commands or path.suffix != ".py", f"no command enabling the API found in {path.name}: is it still read?"
    for command in commands:
        assert "--auth-token" in command or "--jwt-secret" in command, command


def test_run_sh_enables_the_api_only_with_a_token_and_on_localhost():
    text = (ROOT / "scripts" / "run.sh").read_text()
    [line] = _commands_enabling_the_api(text)
    assert line.startswith('if [ -n "${RASA_API_TOKEN:-}" ]; then api=(--enable-api --auth-token "$RASA_API_TOKEN"')
    assert "--interface 127.0.0.1" in line


def test_containers_keep_the_api_off_and_publish_only_the_balancer():
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    assert "--enable-api" not in (ROOT / "deploy" / "Dockerfile").read_text()
    published = {name: service.get("ports") for name, service in compose["services"].items() if service.get("ports")}
    assert published == {"balancer": ["80:80"]}
    for name, service in compose["services"].items():
        assert "--enable-api" not in " ".join(service.get("command") or []), name


def _server_blocks(conf: str) -> list[str]:
    blocks, start = [], None
    for match in re.finditer(r"^server \{$|^\}$", conf, re.M):
        if match.group(0).startswith("server"):
            start = match.start()
        elif start is not None:
            blocks.append(conf[start : match.end()])
            start = None
    return blocks


@pytest.mark.parametrize("path", NGINX_CONFIGS, ids=lambda p: p.name)
def test_nginx_exposes_only_the_chat_webhooks(path):
    blocks = _server_blocks(path.read_text())
    public = [b for b in blocks if re.search(r"^\s*listen 80;", b, re.M)]
    assert len(public) == 1 and len(blocks) == 2
    proxied = re.findall(r"location\s+(=|~)?\s*(\S+)\s*\{[^}]*proxy_pass", public[0])
    assert proxied and all(location.lstrip("^").startswith("/webhooks/") for _, location in proxied), proxied
    assert re.search(r"location / \{ return 404; \}", public[0])  # everything else, the API included
    # The private listener forwards to the action servers only, never to Rasa's API.
    private = next(b for b in blocks if b is not public[0])
    assert re.findall(r"proxy_pass (\S+);", private) == ["http://action_servers"]
