"""The website chat widget: static JS/CSS for clinics' sites, and a small Sanic app that
serves them together with a demo clinic page (see docs/website-widget.md)."""
