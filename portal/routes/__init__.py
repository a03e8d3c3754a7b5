"""The portal's routes, as Sanic blueprints. Every page except sign-in and /health needs a
staff session (pages.staff_only); admin-only routes are marked admin=True. Handlers call
named functions of portal/storage.py through pages.db (off the event loop), never SQL.

- signin: /health, /, /login, /logout
- conversations: /inbox, /inbox.csv, /conversation (and its print page and forms)
- unanswered: /questions, /questions.csv, /questions/status
- admin: /conversation/erase, /audit
- callbacks: /callbacks, /callbacks.csv, /callbacks/contacted, /callbacks/undo, /callbacks/note
  (the call-back queue: consultation requests and "asked for a person", oldest waiting first)
- dashboard: /dashboard (counts and charts, each number a link to the filtered inbox)
"""

from portal.routes.admin import bp as admin
from portal.routes.callbacks import bp as callbacks
from portal.routes.conversations import bp as conversations
from portal.routes.dashboard import bp as dashboard
from portal.routes.signin import bp as signin
from portal.routes.unanswered import bp as unanswered

BLUEPRINTS = (signin, conversations, callbacks, dashboard, unanswered, admin)
