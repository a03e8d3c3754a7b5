"""The portal's routes, as Sanic blueprints. Every page except sign-in and /health needs a
staff session (pages.staff_only); admin-only routes are marked admin=True. Handlers call
named functions of portal/storage.py through pages.db (off the event loop), never SQL.

- signin: /health, /, /login, /logout
- conversations: /inbox, /inbox.csv, /conversation (and its print page and forms)
- unanswered: /questions, /questions.csv, /questions/status
- admin: /conversation/erase, /audit
- callbacks: /callbacks, /callbacks.csv, /callbacks/contacted, /callbacks/undo, /callbacks/note
"""

from portal.routes.admin import bp as admin
from portal.routes.conversations import bp as conversations
from portal.routes.signin import bp as signin
from portal.routes.unanswered import bp as unanswered

BLUEPRINTS = (signin, conversations, unanswered, admin)

# The call-back queue (issue 13).
from portal.routes.callbacks import bp as callbacks  # noqa: E402

BLUEPRINTS = (*BLUEPRINTS, callbacks)
