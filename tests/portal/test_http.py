"""Every route of a running portal over HTTP: sessions, roles, CSRF, escaping, the review
workflow, export, erasure, audit and login throttling."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import uuid

import pytest
import requests
import sqlalchemy as sa
from portal_helpers import (
    ADMIN,
    REVIEWER,
    csrf_from,
    login,
    page_csrf,
    save,
    screening,
    start_portal,
    stop_portal,
)

from clinical.consultation_store import save_request

GET_ROUTES = [
    "/inbox",
    "/inbox.csv",
    "/conversation?id=x",
    "/conversation/print?id=x",
    "/conversation/erase?id=x",
    "/audit",
]
POST_ROUTES = [
    "/logout",
    "/conversation/review",
    "/conversation/note",
    "/conversation/tag",
    "/conversation/contacted",
    "/conversation/erase",
]
ADMIN_GETS = ["/inbox.csv", "/audit", "/conversation/erase?id={cid}"]


@pytest.fixture
def conversation(tracker, portal):
    """A fresh conversation with a consultation request; returns its id."""
    cid = f"t-{uuid.uuid4().hex[:10]}"
    save(
        tracker,
        cid,
        screening(
            cid,
            outcome="needs_medical_review",
            reasons=["rf_jaw_locked", "unsure_rf_emergency"],
            messages=[f"marker {cid}"],
            consultation=True,
        ),
    )
    save_request(
        cid,
        "Sam Example",
        "sam@example.org",
        "email",
        "weekday mornings",
        "needs_medical_review",
        ["rf_jaw_locked"],
        url=portal.databases.consultation_url,
    )
    return cid


def _audit_count(stores, action, cid=None):
    with stores.portal.connect() as conn:
        return conn.execute(
            sa.text("SELECT COUNT(*) FROM portal_audit WHERE action = :a AND (:c IS NULL OR conversation_id = :c)"),
            {"a": action, "c": cid},
        ).scalar()


def _post(http, base, path, **data):
    return http.post(f"{base}{path}", data={"csrf_token": page_csrf(http, base), **data}, allow_redirects=False)


# ---- no session, roles, CSRF -----------------------------------------------------


def test_health_and_security_headers(portal):
    assert requests.get(f"{portal.base}/health").json() == {"status": "ok"}
    headers = requests.get(f"{portal.base}/login").headers
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "no-store"
    css = requests.get(f"{portal.base}/static/portal.css")
    assert css.ok and "public" in css.headers["Cache-Control"]


@pytest.mark.parametrize("path", GET_ROUTES)
def test_pages_without_a_session_go_to_sign_in(portal, path):
    resp = requests.get(f"{portal.base}{path}", allow_redirects=False)
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/login?next=%2F")


@pytest.mark.parametrize("path", POST_ROUTES)
def test_posts_without_a_session_get_401(portal, path):
    resp = requests.post(f"{portal.base}{path}", data={"id": "x", "csrf_token": "x"}, allow_redirects=False)
    assert resp.status_code == 401
    assert "Please sign in" in resp.text


def test_home_redirects_to_the_inbox(portal):
    resp = requests.get(f"{portal.base}/", allow_redirects=False)
    assert resp.status_code == 302 and resp.headers["Location"] == "/inbox"


@pytest.mark.parametrize("path", ADMIN_GETS)
def test_reviewer_gets_403_on_admin_pages(portal, reviewer, conversation, path):
    resp = reviewer.get(portal.base + path.format(cid=conversation), allow_redirects=False)
    assert resp.status_code == 403
    assert "Only an admin" in resp.text


def test_reviewer_cannot_erase(portal, reviewer, conversation, stores):
    resp = _post(reviewer, portal.base, "/conversation/erase", id=conversation, confirm=conversation)
    assert resp.status_code == 403
    assert reviewer.get(f"{portal.base}/conversation?id={conversation}").status_code == 200
    assert _audit_count(stores, "erase", conversation) == 0


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_post_with_missing_or_wrong_csrf_is_refused_and_changes_nothing(portal, admin, conversation, token):
    data = {"id": conversation, "reviewed": "yes", **({"csrf_token": token} if token else {})}
    resp = admin.post(f"{portal.base}/conversation/review", data=data, allow_redirects=False)
    assert resp.status_code == 403
    assert "out of date" in resp.text
    page = admin.get(f"{portal.base}/conversation?id={conversation}").text
    assert '<strong id="reviewed">no</strong>' in page


def test_sign_in_form_needs_its_csrf_token(portal):
    http = requests.Session()
    http.get(f"{portal.base}/login")
    resp = http.post(f"{portal.base}/login", data={"username": ADMIN[0], "password": ADMIN[1]}, allow_redirects=False)
    assert resp.status_code == 403


# ---- signing in and out ---------------------------------------------------------


def test_sign_in_sets_a_strict_httponly_session_cookie(portal):
    http = requests.Session()
    form = http.get(f"{portal.base}/login")
    resp = http.post(
        f"{portal.base}/login",
        data={"csrf_token": csrf_from(form.text), "username": ADMIN[0], "password": ADMIN[1], "next": "/audit"},
        allow_redirects=False,
    )
    assert resp.status_code == 303 and resp.headers["Location"] == "/audit"
    cookie = next(c for c in resp.raw.headers.getlist("Set-Cookie") if c.startswith("portal_session="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # this test server runs with PORTAL_INSECURE_COOKIES=1


def test_cookies_are_secure_by_default(portal):
    secure = start_portal(portal.databases, {"PORTAL_INSECURE_COOKIES": ""})
    try:
        form = requests.get(f"{secure.base}/login")
        assert "Secure" in form.headers["Set-Cookie"]
        resp = requests.post(
            f"{secure.base}/login",
            cookies={"portal_login_csrf": form.cookies["portal_login_csrf"]},
            data={"csrf_token": csrf_from(form.text), "username": ADMIN[0], "password": ADMIN[1]},
            allow_redirects=False,
        )
        assert resp.status_code == 303
        assert "Secure" in next(c for c in resp.raw.headers.getlist("Set-Cookie") if c.startswith("portal_session="))
    finally:
        stop_portal(secure)


def test_wrong_password_is_refused(portal, stores):
    before = _audit_count(stores, "sign_in_failed")
    http = login(portal.base, ADMIN[0], "not the password", expect=401)
    assert http.get(f"{portal.base}/inbox", allow_redirects=False).status_code == 302
    assert _audit_count(stores, "sign_in_failed") == before + 1
    login(portal.base, *ADMIN)  # a success clears the failure count


def test_next_is_only_followed_to_local_pages(portal):
    http = requests.Session()
    form = http.get(f"{portal.base}/login")
    resp = http.post(
        f"{portal.base}/login",
        data={"csrf_token": csrf_from(form.text), "username": ADMIN[0], "password": ADMIN[1], "next": "//evil.example"},
        allow_redirects=False,
    )
    assert resp.headers["Location"] == "/inbox"


def test_sign_out_ends_the_session_on_the_server(portal):
    http = login(portal.base, *REVIEWER)
    cookie = http.cookies.get("portal_session")
    resp = _post(http, portal.base, "/logout")
    assert resp.status_code == 303 and resp.headers["Location"] == "/login"
    replay = requests.get(f"{portal.base}/inbox", cookies={"portal_session": cookie}, allow_redirects=False)
    assert replay.status_code == 302


def test_session_expires_after_inactivity(portal, stores):
    http = login(portal.base, *REVIEWER)
    assert http.get(f"{portal.base}/inbox", allow_redirects=False).status_code == 200
    token_hash = hashlib.sha256(http.cookies["portal_session"].encode()).hexdigest()
    with stores.portal.begin() as conn:  # 31 minutes pass without a request (the limit is 30)
        changed = conn.execute(
            sa.text("UPDATE portal_sessions SET last_seen_at = last_seen_at - 31 * 60 WHERE token_hash = :h"),
            {"h": token_hash},
        ).rowcount
    assert changed == 1  # the database holds the token's hash, not the token
    assert http.get(f"{portal.base}/inbox", allow_redirects=False).status_code == 302


def test_repeated_failed_sign_ins_are_throttled(portal, stores):
    try:
        for _ in range(5):
            login(portal.base, REVIEWER[0], "wrong guess", expect=401)
        blocked = requests.Session()
        form = blocked.get(f"{portal.base}/login")
        resp = blocked.post(
            f"{portal.base}/login",
            data={"csrf_token": csrf_from(form.text), "username": REVIEWER[0], "password": REVIEWER[1]},
            allow_redirects=False,
        )
        assert resp.status_code == 429  # even the right password waits
        assert int(resp.headers["Retry-After"]) > 0
        assert "Too many failed sign-ins" in resp.text
        assert _audit_count(stores, "sign_in_throttled") >= 1
        with stores.portal.begin() as conn:  # the block runs out
            conn.execute(sa.text("UPDATE portal_login_failures SET blocked_until = 0"))
        login(portal.base, *REVIEWER)
        with stores.portal.connect() as conn:
            assert conn.execute(sa.text("SELECT COUNT(*) FROM portal_login_failures")).scalar() == 0
    finally:
        with stores.portal.begin() as conn:
            conn.execute(sa.text("DELETE FROM portal_login_failures"))


# ---- inbox, conversation, review workflow -----------------------------------------


def test_inbox_lists_new_conversations_and_filters(portal, reviewer, conversation, tracker):
    other = f"u-{uuid.uuid4().hex[:10]}"
    save(tracker, other, screening(other, outcome="urgent_care", reasons=["rf_airway"], channel="socketio"))
    page = reviewer.get(f"{portal.base}/inbox").text
    assert f"/conversation?id={conversation}" in page and f"/conversation?id={other}" in page
    # plain words, never the rule's code
    assert "Difficulty breathing or swallowing" in page and "rf_airway" not in page
    urgent = reviewer.get(f"{portal.base}/inbox", params={"outcome": "urgent_care"}).text
    assert other in urgent and conversation not in urgent
    found = reviewer.get(f"{portal.base}/inbox", params={"q": f"marker {conversation}"}).text
    assert conversation in found and other not in found
    channel = reviewer.get(f"{portal.base}/inbox", params={"channel": "socketio", "consultation": "no"}).text
    assert other in channel and conversation not in channel


def test_bad_inbox_filter_gets_400_with_the_reason(portal, reviewer):
    resp = reviewer.get(f"{portal.base}/inbox", params={"date_from": "yesterday"})
    assert resp.status_code == 400
    assert "date_from must be a date written YYYY-MM-DD" in resp.text


def test_conversation_page_shows_transcript_summary_and_request(portal, reviewer, conversation, stores):
    before = _audit_count(stores, "view_conversation", conversation)
    page = reviewer.get(f"{portal.base}/conversation?id={conversation}").text
    assert 'Tapped: <strong class="chosen">Yes, that&#39;s okay</strong>' in page  # the chosen button
    assert "<li>Chest pain or breathlessness</li>" in page  # the buttons offered
    assert "none of these" in page and re.search(r"\d\d:\d\d (GMT|BST)", page)  # typed answer, local time
    # answers by the question's short wording
    assert "<tr><td>Emergency warning signs right now</td><td>None of these</td></tr>" in page
    assert "Locked jaw or unable to eat or drink" in page  # the reason in plain words (labels.yml)
    assert "4 / 7" in page  # TMD pain screener score
    from clinical.rules import load_rulebook

    assert load_rulebook().rule("rf_jaw_locked").patient_text.replace("'", "&#39;") in page
    assert "You weren&#39;t sure about: emergency warning signs right now" in page
    assert "Sam Example" in page and "sam@example.org" in page and "weekday mornings" in page
    assert _audit_count(stores, "view_conversation", conversation) == before + 1
    printable = reviewer.get(f"{portal.base}/conversation/print?id={conversation}").text
    assert "Screening transcript" in printable and "Sam Example" in printable
    assert "Mark contacted" not in printable
    assert _audit_count(stores, "print_conversation", conversation) == 1


def test_patient_markup_is_shown_as_text(portal, reviewer, tracker):
    cid = f"x-{uuid.uuid4().hex[:10]}"
    save(tracker, cid, screening(cid, messages=['<script>alert("pwned")</script><img src=x onerror=alert(1)>']))
    for path in ("/conversation", "/conversation/print"):
        page = reviewer.get(f"{portal.base}{path}?id={cid}").text
        assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in page
        assert "<script>" not in page and "<img src=x" not in page


def test_unknown_conversation_and_page_get_404(portal, reviewer):
    assert reviewer.get(f"{portal.base}/conversation?id=nope").status_code == 404
    resp = reviewer.get(f"{portal.base}/no-such-page")
    assert resp.status_code == 404 and "There is no such page." in resp.text


def test_review_tags_notes_and_contacted(portal, reviewer, conversation, stores):
    base = portal.base
    assert _post(reviewer, base, "/conversation/review", id=conversation, reviewed="yes").status_code == 303
    assert _post(reviewer, base, "/conversation/tag", id=conversation, tag="call back", action="add").status_code == 303
    assert (
        _post(reviewer, base, "/conversation/note", id=conversation, body="Left a <b>voicemail</b>").status_code == 303
    )
    page = reviewer.get(f"{base}/conversation?id={conversation}").text
    assert '<strong id="reviewed">yes</strong>' in page and "by rob.reviewer" in page
    assert "Left a &lt;b&gt;voicemail&lt;/b&gt;" in page
    assert conversation in reviewer.get(f"{base}/inbox", params={"reviewed": "yes", "tag": "call back"}).text
    assert conversation not in reviewer.get(f"{base}/inbox", params={"reviewed": "no"}).text

    request_id = re.search(r'name="request_id" value="(\d+)"', page).group(1)
    assert _post(reviewer, base, "/conversation/contacted", id=conversation, request_id=request_id).status_code == 303
    with stores.consultations.connect() as conn:
        assert conn.execute(
            sa.text("SELECT contacted FROM consultation_requests WHERE id = :i"), {"i": int(request_id)}
        ).scalar()
    assert _post(reviewer, base, "/conversation/contacted", id="someone-else", request_id=request_id).status_code == 404

    assert (
        _post(reviewer, base, "/conversation/tag", id=conversation, tag="call back", action="remove").status_code == 303
    )
    assert conversation not in reviewer.get(f"{base}/inbox", params={"tag": "call back"}).text
    for action in ("mark_reviewed", "add_tag", "add_note", "mark_contacted", "remove_tag"):
        assert _audit_count(stores, action, conversation) == 1, action


@pytest.mark.parametrize(
    "path,data,message",
    [
        ("/conversation/tag", {"tag": "<b>", "action": "add"}, "A tag is 1-40 characters"),
        ("/conversation/note", {"body": "   "}, "A note needs some text"),
        ("/conversation/contacted", {"request_id": "abc"}, "request_id must be a number"),
    ],
)
def test_bad_form_input_gets_400_with_the_reason(portal, reviewer, conversation, path, data, message):
    resp = _post(reviewer, portal.base, path, id=conversation, **data)
    assert resp.status_code == 400 and message in resp.text


# ---- admin: export, erasure, audit ---------------------------------------------


def test_admin_exports_the_filtered_list_as_csv(portal, admin, conversation, stores):
    resp = admin.get(f"{portal.base}/inbox.csv", params={"q": f"marker {conversation}"})
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in resp.headers["Content-Disposition"]
    assert resp.headers["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert len(rows) == 1 and rows[0]["conversation_id"] == conversation
    assert rows[0]["outcome"] == "needs_medical_review" and rows[0]["red_flags"] == "rf_jaw_locked"
    assert rows[0]["consultation_requested"] == "yes"
    with stores.portal.connect() as conn:
        detail = conn.execute(
            sa.text("SELECT detail FROM portal_audit WHERE action = 'export_csv' ORDER BY id DESC")
        ).scalar()
    assert detail.startswith("rows=1 ")


def test_admin_erases_a_conversation_after_confirming(portal, admin, conversation, stores):
    assert admin.get(f"{portal.base}/conversation?id={conversation}").status_code == 200  # audited view
    form = admin.get(f"{portal.base}/conversation/erase?id={conversation}")
    assert form.status_code == 200 and "cannot be undone" in form.text
    wrong = _post(admin, portal.base, "/conversation/erase", id=conversation, confirm="not it")
    assert wrong.status_code == 400 and "Type the conversation id exactly" in wrong.text
    done = _post(admin, portal.base, "/conversation/erase", id=conversation, confirm=conversation)
    assert done.status_code == 200 and "1 consultation requests" in done.text
    assert admin.get(f"{portal.base}/conversation?id={conversation}").status_code == 404
    assert conversation not in admin.get(f"{portal.base}/inbox").text
    with stores.tracker.connect() as conn:
        assert (
            conn.execute(sa.text("SELECT COUNT(*) FROM events WHERE sender_id = :c"), {"c": conversation}).scalar() == 0
        )
    reference = re.search(r'<code id="reference">(erased-[0-9a-f]+)</code>', done.text).group(1)
    assert _audit_count(stores, "erase", reference) == 1
    assert _audit_count(stores, "view_conversation", conversation) == 0  # renamed to the reference
    assert _audit_count(stores, "view_conversation", reference) >= 1


def test_admin_reads_the_audit_log(portal, admin):
    page = admin.get(f"{portal.base}/audit")
    assert page.status_code == 200
    assert "sign_in" in page.text and "alice.admin" in page.text
    assert admin.get(f"{portal.base}/audit", params={"page": "x"}).status_code == 400


def test_reviewer_sees_no_admin_links(portal, reviewer, conversation):
    assert "Export CSV" not in reviewer.get(f"{portal.base}/inbox").text
    assert "Erase" not in reviewer.get(f"{portal.base}/conversation?id={conversation}").text


def test_index_refresh_is_not_a_full_replay(portal, reviewer, stores):
    """After a refresh, the inbox reads nothing from the tracker store until something new arrives."""
    from portal import summaries

    reviewer.get(f"{portal.base}/inbox")
    assert summaries.summarise_new_events(stores.tracker, stores.portal) == 0
