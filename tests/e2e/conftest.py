import pytest

from tests.support.servers import start_assistant


@pytest.fixture(scope="session")
def assistant(tmp_path_factory):
    """The trained assistant with its action server, shared by the e2e tests."""
    running = start_assistant(tmp_path_factory.mktemp("assistant"))
    yield running
    running.stop()


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
