import pytest

from tests.understanding.assistant import MODEL, InProcessAssistant


@pytest.fixture(scope="session")
def assistant():
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `rasa train` first (scripts/test.sh does)")
    return InProcessAssistant(MODEL)
