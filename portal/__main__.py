"""Runs the staff portal: python -m portal (settings from the environment, see config.py)."""

import sys

from portal.config import ConfigError, load_settings
from security import log_redaction
from security.production_settings import refuse_unsafe_production_settings


def main() -> int:
    log_redaction.install()  # before anything can log a patient's details
    refuse_unsafe_production_settings("portal")
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from portal import accounts, db
    from portal.web import create_app

    db.migrate(db.engine_for(settings.portal_url))
    with db.engine_for(settings.portal_url).connect() as conn:
        has_users = bool(accounts.list_users(conn))
    print(f"Staff portal: http://{settings.host}:{settings.port}/")
    if settings.secure_cookies:
        # Browsers only send Secure cookies over https, so sign-in fails on plain http.
        print(
            "  Cookies are Secure: serve it behind https, or set PORTAL_INSECURE_COOKIES=1 "
            "to use it over http on this machine."
        )
    if not has_users:
        print(
            "No staff accounts yet. Create the first admin with:\n"
            "  .venv/bin/python -m portal.cli create-user --username admin --role admin"
        )
    create_app(settings).run(host=settings.host, port=settings.port, access_log=False, motd=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
