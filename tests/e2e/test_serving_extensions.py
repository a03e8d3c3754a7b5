"""The running Rasa server has the project's server-side extensions switched on: they are
loaded through credentials.yml's channels, not by anything the tests do themselves."""


def test_action_response_schema_is_checked_once_at_start_up(assistant):
    log = (assistant.workdir / "rasa.log").read_text()
    assert "Action-response validation: schema checked once at start-up" in log, log[-2000:]
    assert "left as Rasa's own" not in log
