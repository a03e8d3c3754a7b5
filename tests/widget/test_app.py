"""The widget's Sanic app: what it serves and how it builds the embed snippet. No browser,
no Rasa: these run with the unit tests."""

import json
import subprocess
import sys

import pytest
import requests

from tests.support.servers import ROOT, free_port
from tests.widget.harness import start_widget_app
from widget.app import check_base_url, embed_snippet, render_page

RASA_URL = "http://127.0.0.1:5999"  # never contacted by these tests


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    port = free_port()
    process = start_widget_app(port, RASA_URL, tmp_path_factory.mktemp("widget-app") / "widget.log")
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=20)


def test_demo_pages_embed_the_widget_with_the_clinics_settings(site):
    for path in ("/", "/treatment"):
        page = requests.get(site + path, timeout=10)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert '<script src="/widget/widget.js" defer></script>' in page.text
        inline = page.text.split("<script>\n  window.JawScreeningWidget = ")[-1]  # not the <pre> copy
        config = json.loads(inline.split(";\n</script>")[0])
        assert config == {"serverUrl": RASA_URL, "clinicName": "Example Jaw Clinic", "emergencyNumber": "999"}


def test_widget_files_are_served_with_their_types_and_nothing_else_is(site):
    js = requests.get(site + "/widget/widget.js", timeout=10)
    css = requests.get(site + "/widget/widget.css", timeout=10)
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert js.headers["x-content-type-options"] == "nosniff"
    assert js.text == (ROOT / "widget" / "static" / "widget.js").read_text(encoding="utf-8")
    for path in ("/widget/../app.py", "/widget/%2e%2e/app.py", "/nothing-here", "/demo/index.html"):
        assert requests.get(site + path, timeout=10).status_code == 404, path


def test_embed_snippet_cannot_be_broken_out_of_by_a_setting():
    snippet = embed_snippet(
        "https://chat.example.org/widget/widget.js?v=1&x=2", {"clinicName": "</script><script>alert(1)</script> & Co"}
    )
    assert snippet.count("</script>") == 2  # the config's own closing tag and the script's
    assert 'src="https://chat.example.org/widget/widget.js?v=1&amp;x=2"' in snippet
    config = snippet.split("window.JawScreeningWidget = ")[1].split(";\n</script>")[0]
    assert json.loads(config) == {"clinicName": "</script><script>alert(1)</script> & Co"}


def test_page_placeholders_are_escaped_and_unknown_ones_fail_loudly():
    page = render_page("<h1>{{name}}</h1>{{embed}}", {"name": "<b>A & B</b>"}, {"embed": "<script></script>"})
    assert page == "<h1>&lt;b&gt;A &amp; B&lt;/b&gt;</h1><script></script>"
    with pytest.raises(KeyError, match="phone"):
        render_page("{{phone}}", {}, {})


@pytest.mark.parametrize("url", ["", "127.0.0.1:5005", "ftp://chat.example.org", "javascript:alert(1)"])
def test_a_rasa_url_that_is_not_a_web_address_is_refused_with_a_reason(url):
    with pytest.raises(ValueError, match="must be an http:// or https:// address"):
        check_base_url(url, "--rasa-url")
    result = subprocess.run(
        [sys.executable, "-m", "widget.app", "--rasa-url", url], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and "--rasa-url must be an http:// or https:// address" in result.stderr


def test_base_urls_lose_a_trailing_slash():
    assert check_base_url(" https://chat.example.org/rasa/ ", "x") == "https://chat.example.org/rasa"
