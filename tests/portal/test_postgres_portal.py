"""The running portal on PostgreSQL: tracker store, portal tables and consultation requests in
one database, as in production. Skipped with the reason when PostgreSQL is not reachable."""

from __future__ import annotations

import pytest
from portal_helpers import login, page_csrf, run_cli, save, screening, start_portal, stop_portal, tracker_store


@pytest.mark.postgres
@pytest.mark.parametrize("databases", ["postgres"], indirect=True)
def test_review_workflow_on_postgresql(databases):
    save(
        tracker_store(databases.tracker_url),
        "pg-conv",
        screening("x", outcome="urgent_care", reasons=["rf_airway"], messages=["<b>hi</b>"]),
    )
    assert (
        run_cli(
            databases,
            "create-user",
            "--username",
            "pg.admin",
            "--role",
            "admin",
            "--password-stdin",
            stdin="long enough password\n",
        ).returncode
        == 0
    )
    portal = start_portal(databases)
    try:
        http = login(portal.base, "pg.admin", "long enough password")
        assert "pg-conv" in http.get(f"{portal.base}/inbox", params={"outcome": "urgent_care"}).text
        page = http.get(f"{portal.base}/conversation?id=pg-conv").text
        assert "&lt;b&gt;hi&lt;/b&gt;" in page
        resp = http.post(
            f"{portal.base}/conversation/review",
            allow_redirects=False,
            data={"csrf_token": page_csrf(http, portal.base), "id": "pg-conv", "reviewed": "yes"},
        )
        assert resp.status_code == 303
        assert "pg-conv" in http.get(f"{portal.base}/inbox.csv", params={"reviewed": "yes"}).text
        assert run_cli(databases, "erase", "--conversation", "pg-conv").returncode == 0
        assert http.get(f"{portal.base}/conversation?id=pg-conv").status_code == 404
    finally:
        stop_portal(portal)
