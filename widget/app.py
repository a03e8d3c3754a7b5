"""Serves the website chat widget and a demo clinic page that embeds it.

    .venv/bin/python -m widget.app --port 5020 --rasa-url http://127.0.0.1:5005

The widget in the visitor's browser talks to Rasa's REST channel directly (no proxy here),
exactly as it will from a clinic's own site. So Rasa must allow this page's origin:

    python -m serving run ... --cors "http://127.0.0.1:5020"

Open the demo at that exact origin (127.0.0.1 and localhost are different origins).
"""

from __future__ import annotations

import argparse
import html
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

from sanic import Sanic, response

from clinical.clinic import load_clinic_settings

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
DEMO_DIR = HERE / "demo"
DEMO_PAGES = {"/": "index.html", "/treatment": "treatment.html"}
PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


def check_base_url(url: str, what: str) -> str:
    """An http(s) origin such as https://chat.example.org, without a trailing slash."""
    parts = urlsplit((url or "").strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{what} must be an http:// or https:// address, got {url!r}")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def embed_snippet(script_src: str, config: dict[str, object]) -> str:
    """The exact HTML a clinic pastes into its pages: the config object, then the script."""
    # json.dumps does not escape "<", so a value containing "</script>" could end the
    # inline script early; \u003c is the same character to JavaScript.
    config_js = json.dumps(config, indent=2, ensure_ascii=False).replace("<", "\\u003c").replace("\n", "\n  ")
    return (
        f"<script>\n  window.JawScreeningWidget = {config_js};\n</script>\n"
        f'<script src="{html.escape(script_src)}" defer></script>'
    )


def render_page(template: str, text: dict[str, str], raw_html: dict[str, str]) -> str:
    """Fills {{name}} placeholders in one pass: `text` values escaped, `raw_html` as is.
    An unknown placeholder is a KeyError naming it, not a page with "{{...}}" left in."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        return raw_html[name] if name in raw_html else html.escape(text[name])

    return PLACEHOLDER.sub(fill, template)


def demo_config(rasa_url: str) -> dict[str, object]:
    """The demo clinic's widget settings, taken from clinic.yml like the assistant's."""
    clinic = load_clinic_settings()
    return {"serverUrl": rasa_url, "clinicName": clinic.clinic_name, "emergencyNumber": clinic.emergency_number}


def create_app(rasa_url: str, name: str = "jaw_widget_demo") -> Sanic:
    rasa_url = check_base_url(rasa_url, "--rasa-url")
    clinic = load_clinic_settings()
    embed = embed_snippet("/widget/widget.js", demo_config(rasa_url))
    text = {
        "clinic_name": clinic.clinic_name,
        "phone": clinic.phone,
        "emergency_number": clinic.emergency_number,
        "widget_embed_source": embed,
    }
    # Rendered once at start-up: the demo pages never change while the app runs.
    pages = {
        path: render_page((DEMO_DIR / file).read_text(encoding="utf-8"), text, {"widget_embed": embed})
        for path, file in DEMO_PAGES.items()
    }

    app = Sanic(name)
    app.static("/widget", str(STATIC_DIR), name="widget")

    def page_handler(path: str):
        async def handler(request):
            return response.html(pages[path])

        return handler

    for path in pages:
        app.add_route(page_handler(path), path, name="page" + path.replace("/", "_"))

    @app.get("/demo.css")
    async def demo_css(request):
        return await response.file(DEMO_DIR / "demo.css")

    @app.get("/favicon.ico")
    async def no_favicon(request):  # keeps the demo's browser console free of a 404
        return response.empty()

    @app.get("/health")
    async def health(request):
        return response.text("ok")

    @app.middleware("response")
    async def no_sniffing(request, resp):
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "same-origin"

    return app


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Serve the chat widget and the demo clinic page.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5020)
    parser.add_argument(
        "--rasa-url", default="http://127.0.0.1:5005", help="Rasa's address as the visitor's browser reaches it"
    )
    args = parser.parse_args(argv)
    try:
        app = create_app(args.rasa_url)
    except ValueError as error:
        parser.error(str(error))
    origin = f"http://{args.host}:{args.port}"
    print(
        f"Demo clinic page: {origin}/  (widget: {origin}/widget/widget.js)\n"
        f'Rasa at {args.rasa_url} must be started with: --cors "{origin}"',
        flush=True,
    )
    app.run(host=args.host, port=args.port, access_log=False, motd=False)


if __name__ == "__main__":
    main()
