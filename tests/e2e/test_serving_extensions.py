"""The running Rasa server has the project's server extensions switched on: installed by its
launcher (`python -m serving run`, serving/extensions.py), not by anything the tests do
themselves, and each one is named in its start-up log."""


def test_action_response_schema_is_checked_once_at_start_up(assistant):
    log = (assistant.workdir / "rasa.log").read_text()
    assert "Action-response validation: schema checked once at start-up" in log, log[-2000:]
    assert "left as Rasa's own" not in log


def test_every_server_extension_is_named_once_in_the_start_up_log_before_the_server_is_up(assistant):
    log = (assistant.workdir / "rasa.log").read_text()
    up = log.index("Rasa server is up and running")
    for name, source in [
        ("production-settings check", "security/production_settings.py"),
        ("log redaction", "security/log_redaction.py"),
        ("action-response validation", "serving/action_response_validation.py"),
        ("fault handling", "serving/fault_handling.py"),
        ("resilient tracker store", "serving/tracker_store.py"),
    ]:
        line = f"server extension installed: {name} ({source})"
        assert log.count(line) == 1 and log.index(line) < up, log[-3000:]
    # endpoints.yml (one server) has Rasa's in-memory lock store: recorded, not hidden
    assert log.count("server extension not in use: atomic lock store (serving/lock_store.py)") == 1
