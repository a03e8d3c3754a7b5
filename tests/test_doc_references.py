"""The security docs point to the tests that cover each mitigation: every file and test
they cite must exist, so a renamed or deleted test cannot leave a mitigation unproven."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ["docs/threat-model.md", "docs/data-flow.md", "docs/security-input.md", "docs/faults.md", "docs/deployment.md"]
FILE = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?`")
TEST_NAME = re.compile(r"`(?:::)?(test_\w+)`")


def cited(doc):
    """(line number, files, test names) for each line that cites tests."""
    for number, line in enumerate((ROOT / doc).read_text().splitlines(), 1):
        files = FILE.findall(line)
        if files:
            names = {n for _, n in files if n} | set(TEST_NAME.findall(line))
            yield number, [f for f, _ in files], names


CITATIONS = [(doc, n, files, names) for doc in DOCS if (ROOT / doc).exists() for n, files, names in cited(doc)]


def test_the_threat_model_cites_tests():
    assert any(doc == "docs/threat-model.md" for doc, *_ in CITATIONS)


@pytest.mark.parametrize("doc,line,files,names", CITATIONS, ids=[f"{d}:{n}" for d, n, *_ in CITATIONS])
def test_every_cited_test_exists(doc, line, files, names):
    for path in files:
        assert (ROOT / path).is_file(), f"{doc}:{line} cites {path}, which does not exist"
    sources = "\n".join((ROOT / path).read_text() for path in files)
    for name in names:
        assert re.search(rf"def {name}\b", sources), f"{doc}:{line} cites {name}, not in {files}"


def test_no_citation_is_still_planned():
    for doc in DOCS:
        if (ROOT / doc).exists():
            assert "(planned:" not in (ROOT / doc).read_text(), f"{doc} still has planned tests"
