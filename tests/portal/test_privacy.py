"""Consent is auditable with the conversation, and erasure leaves no copy behind: the
consent answers the portal shows, the consultation row's consent and reason columns (their
migration on an old table, save_request refusing an unknown reason), the audit log after
erasure, SQLite's free pages. Runs on SQLite and (marked postgres) on PostgreSQL where the
`databases` fixture is used."""

from __future__ import annotations

import time
from datetime import timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from portal_helpers import ADMIN, CONSENT_BUTTONS, login, save, screening, tracker_store
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered

from clinical import consent, consultation_store
from portal import audit, db, erasure, summaries
from portal.erasure import Stores
from portal.transcript import load_conversation

MARKER = "Zebrafinch-7731 takes warfarin"  # fictional, easy to find in a file's bytes


def consent_question(version, at):
    return BotUttered(
        "Is it okay if I ask about your health?",
        data={"buttons": CONSENT_BUTTONS},
        metadata={consent.METADATA_KEY: version} if version else {},
        timestamp=at,
    )


def contact_events(at):
    return [
        BotUttered(
            "May Example Jaw Clinic contact you at sam@example.org to arrange a consultation?",
            metadata={consent.METADATA_KEY: consent.CONTACT_CONSENT_VERSION},
            timestamp=at,
        ),
        UserUttered("yes", {"name": "affirm", "confidence": 1.0}, timestamp=at + 1),
        SlotSet("contact_consent", True, timestamp=at + 2),
    ]


def test_consent_answers_come_back_with_time_and_wording_version(databases):
    stores = databases.stores()
    store = tracker_store(databases.tracker_url)
    t = time.time() - 100
    events = screening("x", start=t)
    # This helper's consent question predates versions; the second screening (after start
    # over) is asked with the versioned wording and declined, then contact consent is given.
    events += [
        consent_question(consent.SCREENING_CONSENT_VERSION, t + 50),
        UserUttered("no", {"name": "deny", "confidence": 1.0}, timestamp=t + 51),
        SlotSet("consent_given", False, timestamp=t + 52),
        *contact_events(t + 60),
    ]
    save(store, "consenting", events)

    answers = load_conversation(stores.tracker, "consenting").consents
    assert [(a.slot, a.given, a.wording_version) for a in answers] == [
        ("consent_given", True, None),  # no version recorded: shown as such, not guessed
        ("consent_given", False, consent.SCREENING_CONSENT_VERSION),
        ("contact_consent", True, consent.CONTACT_CONSENT_VERSION),
    ]
    assert answers[1].timestamp == t + 52 and answers[0].question == "Is it okay if I ask about your health?"


def test_a_version_for_another_question_is_not_credited_to_this_answer(databases):
    stores = databases.stores()
    t = time.time()
    save(
        tracker_store(databases.tracker_url),
        "mixed",
        [consent_question(consent.CONTACT_CONSENT_VERSION, t), SlotSet("consent_given", True, timestamp=t + 1)],
    )
    assert load_conversation(stores.tracker, "mixed").consents[0].wording_version is None


def test_consultation_rows_record_consent_time_and_wording(databases):
    at = time.time() - 30
    consultation_store.save_request(
        "c-1",
        "Sam Example",
        "sam@example.org",
        "email",
        "evenings",
        "needs_medical_review",
        [],
        url=databases.consultation_url,
        consent_at=at,
        consent_wording=consent.CONTACT_CONSENT_VERSION,
    )
    row = consultation_store.list_requests(databases.consultation_url)[-1]
    assert row["consent_wording"] == consent.CONTACT_CONSENT_VERSION
    stored = row["consent_at"]  # SQLite gives back a naive datetime that was stored in UTC
    assert abs((stored if stored.tzinfo else stored.replace(tzinfo=timezone.utc)).timestamp() - at) < 1


def test_an_old_consultation_table_gets_the_consent_columns(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = sa.create_engine(url)
    with old.begin() as conn:  # the table as the first release created it
        conn.execute(
            sa.text(
                "CREATE TABLE consultation_requests (id INTEGER PRIMARY KEY AUTOINCREMENT, conversation_id "
                "VARCHAR(255) NOT NULL, created_at TIMESTAMP NOT NULL, name VARCHAR(200) NOT NULL, contact "
                "VARCHAR(320) NOT NULL, contact_kind VARCHAR(10) NOT NULL, preferred_times VARCHAR(500) NOT NULL, "
                "screening_outcome VARCHAR(40), screening_reasons TEXT, contacted BOOLEAN NOT NULL)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO consultation_requests (conversation_id, created_at, name, contact, "
                "contact_kind, preferred_times, contacted) VALUES ('old', '2025-01-01 10:00:00', "
                "'A', 'a@example.org', 'email', 'any time', 0)"
            )
        )
    consultation_store.save_request(
        "new",
        "B",
        "b@example.org",
        "email",
        "evenings",
        None,
        [],
        url=url,
        consent_wording=consent.CONTACT_CONSENT_VERSION,
    )
    rows = {r["conversation_id"]: r for r in consultation_store.list_requests(url)}
    assert rows["old"]["consent_at"] is None and rows["new"]["consent_at"] is not None


# ---- the consultation request's reason ---------------------------------------------------


def test_save_request_rejects_an_unknown_reason(databases):
    for reason in ("", "urgent", "ASKED_FOR_PERSON", None):
        with pytest.raises(ValueError, match="request_reason must be one of screening, asked_for_person"):
            consultation_store.save_request(
                "c-1",
                "Sam Example",
                "sam@example.org",
                "email",
                "evenings",
                None,
                [],
                url=databases.consultation_url,
                request_reason=reason,
            )
    first = consultation_store.save_request(
        "c-1", "Sam Example", "sam@example.org", "email", "evenings", None, [], url=databases.consultation_url
    )
    second = consultation_store.save_request(
        "c-1",
        "Sam Example",
        "sam@example.org",
        "email",
        "evenings",
        None,
        [],
        url=databases.consultation_url,
        request_reason="asked_for_person",
    )
    assert first != second  # a different reason is a different request
    rows = consultation_store.list_requests(databases.consultation_url)
    assert [(r["conversation_id"], r["request_reason"]) for r in rows] == [
        ("c-1", "screening"),
        ("c-1", "asked_for_person"),
    ]


def test_an_old_consultation_table_gets_the_reason_column(databases):
    url = databases.consultation_url
    old = sa.create_engine(url, future=True)
    consultation_store.add_missing_columns(old)  # no table yet: nothing to do, no error
    id_column = db.ID_COLUMN[old.dialect.name]
    with old.begin() as conn:  # the table as the previous release created it
        conn.execute(
            sa.text(
                f"CREATE TABLE consultation_requests (id {id_column}, conversation_id VARCHAR(255) NOT NULL, "
                "created_at TIMESTAMP NOT NULL, name VARCHAR(200) NOT NULL, contact VARCHAR(320) NOT NULL, "
                "contact_kind VARCHAR(10) NOT NULL, preferred_times VARCHAR(500) NOT NULL, "
                "screening_outcome VARCHAR(40), screening_reasons TEXT, contacted BOOLEAN NOT NULL, "
                "consent_at TIMESTAMP, consent_wording VARCHAR(40))"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO consultation_requests (conversation_id, created_at, name, contact, "
                "contact_kind, preferred_times, contacted) VALUES ('old', '2025-01-01 10:00:00', "
                "'A', 'a@example.org', 'email', 'any time', FALSE)"
            )
        )
    old.dispose()
    consultation_store.save_request(
        "new", "B", "b@example.org", "email", "evenings", None, [], url=url, request_reason="asked_for_person"
    )
    rows = {r["conversation_id"]: r for r in consultation_store.list_requests(url)}
    assert rows["old"]["request_reason"] == "screening" and rows["new"]["request_reason"] == "asked_for_person"


def test_the_conversation_page_shows_consent(portal):
    t = time.time() - 100
    cid = f"consent-page-{int(t)}"
    save(
        tracker_store(portal.databases.tracker_url),
        cid,
        screening("x", start=t)
        + [
            consent_question(consent.SCREENING_CONSENT_VERSION, t + 40),
            SlotSet("consent_given", True, timestamp=t + 41),
        ],
    )
    page = login(portal.base, *ADMIN).get(f"{portal.base}/conversation", params={"id": cid})
    assert page.status_code == 200
    section = page.text.split('<section class="consent">')[1].split("</section>")[0]
    assert section.count("<tr>") == 3  # header + two answers
    assert consent.SCREENING_CONSENT_VERSION in section and "not recorded" in section and "given" in section


def _file_bytes(url: str) -> bytes:
    return Path(url[len("sqlite:///") :]).read_bytes()


def _engines_without_secure_delete(databases) -> Stores:
    """Engines like an SQLite build whose default is secure_delete=OFF (Debian's is ON)."""

    def engine(url):
        e = sa.create_engine(url, future=True)
        sa.event.listen(e, "connect", lambda conn, _: conn.execute("PRAGMA secure_delete = OFF"))
        return e

    portal = engine(databases.portal_url)
    db.migrate(portal)
    return Stores(engine(databases.tracker_url), portal, engine(databases.consultation_url))


def test_erased_text_does_not_linger_in_sqlite_files(tmp_path):
    from portal_helpers import sqlite_databases

    databases = sqlite_databases(tmp_path)
    stores = _engines_without_secure_delete(databases)
    store = tracker_store(databases.tracker_url)
    erased, control = MARKER, "Quokka-5512 takes aspirin"
    save(store, "erase-me", screening("x", messages=[erased]))
    save(store, "control", screening("x", messages=[control]))
    consultation_store.save_request(
        "erase-me", "Sam", "sam@example.org", "email", erased, None, [], url=databases.consultation_url
    )
    summaries.summarise_new_events(stores.tracker, stores.portal)
    with stores.portal.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO portal_notes (conversation_id, author, created_at, body) VALUES ('erase-me', 'a', 0, :b)"
            ),
            {"b": erased},
        )

    with stores.tracker.begin() as conn:  # what a plain DELETE leaves behind on such a build
        conn.execute(sa.text("DELETE FROM events WHERE sender_id = 'control'"))
    assert control.encode() in _file_bytes(databases.tracker_url)

    erasure.erase_conversation(stores, "erase-me", "alice.admin")
    for url in (databases.tracker_url, databases.portal_url, databases.consultation_url):
        content = _file_bytes(url).lower()
        assert erased.lower().encode() not in content, url


def test_an_erasure_reference_is_new_each_time_and_names_nobody(databases):
    stores = databases.stores()
    save(tracker_store(databases.tracker_url), "whatsapp:+447700900123", screening("x"))
    with stores.portal.begin() as conn:
        audit.record(conn, "rob.reviewer", "view_conversation", "whatsapp:+447700900123")
    first = erasure.erase_conversation(stores, "whatsapp:+447700900123", "alice.admin")
    second = erasure.erase_conversation(stores, "whatsapp:+447700900123", "alice.admin")
    assert first.reference != second.reference
    with stores.portal.connect() as conn:
        texts = " ".join(str(v) for row in conn.execute(sa.text("SELECT * FROM portal_audit")) for v in row)
    assert "447700900123" not in texts and first.reference in texts and second.reference in texts
