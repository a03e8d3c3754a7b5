"""The dashboard: screenings per week, outcomes, red flags by tier, drop-off, unanswered
questions and distress, as server-rendered charts and tables (portal/dashboard.py counts,
portal/charts.py draws)."""

from __future__ import annotations

from sanic import Blueprint

from portal import charts, storage
from portal.dashboard import PERIODS, parse_period
from portal.pages import db, error_page, render, staff_only

bp = Blueprint("dashboard")


@bp.get("/dashboard")
@staff_only()
async def dashboard_page(request):
    try:
        weeks, until = parse_period(request.args)
    except ValueError as exc:
        return await error_page(request, 400, str(exc))
    board = await db(request, storage.dashboard_page, weeks, until)
    return await render(request, "dashboard.html", board=board, charts=charts, periods=PERIODS)
