"""Staff review portal: clinic staff read screenings, outcomes and consultation requests.

A Sanic app with server-rendered Jinja2 pages on its own port (127.0.0.1:5010 by default).
It reads Rasa's SQL tracker store (the ``events`` table) and keeps its own tables
(staff, sessions, reviews, notes, tags, audit, conversation summaries); see
docs/staff-portal.md.

Modules: config (environment), db (engines and migrations), summaries (incremental
conversation index), safety (the safety net's slots), questions (unanswered questions and
asking for a person), transcript (one conversation read back), accounts (staff, passwords,
sessions, login throttling), audit, inbox (filters, paging, CSV), erasure (erase and purge),
storage (every database call the routes make), pages (rendering, sessions, CSRF, running
database work off the event loop), routes (the blueprints), web (the app), cli
(command-line tool). It shares only the Rasa-free core (clinical/) with the action server
and never imports actions/ (tests/test_import_boundaries.py).
"""
