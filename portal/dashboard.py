"""The dashboard's numbers: screenings per week, outcomes, red flags by tier, drop-off,
unanswered questions and distress, over a period of whole weeks in the clinic's time zone.

Everything is counted per conversation from the inbox index (portal_summaries), with one
query; each number comes with the inbox link that lists exactly those conversations
(portal/inbox.py's filters; tests/portal/test_dashboard.py follows every link and compares
the inbox's count with the number). The links always carry ``unfinished=show`` so an inbox that
hides conversations without an outcome by default still lists every one counted here.

What the counts mean (docs/staff-portal.md):
- started: conversations whose first event falls in the week; consented: ... that gave
  consent to the screening; finished: ... that reached an outcome (in any of their
  screenings); booked: ... that asked for a consultation.
- outcomes: the latest outcome each conversation reached ("Screening not finished": none).
- red flags by tier: conversations with at least one red flag of the tier, from any of
  their screenings (a start over never hides one); one conversation can count in two tiers.
- drop-off: conversations whose latest screening stopped unfinished, by the question it
  stopped at (or at the summary of answers).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

import sqlalchemy as sa

from clinical.questionnaire import load_questionnaire
from clinical.rules import OUTCOMES
from portal.charts import Bar, Group
from portal.clock import ClinicClock
from portal.inbox import NO_OUTCOME, week_bounds
from portal.labels import load_labels
from portal.screenings import AT_SUMMARY
from portal.tiers import TIERS, tier_of

PERIODS = (4, 12, 26, 52)  # weeks the page offers
DEFAULT_WEEKS = 12
WEEKLY_SERIES = (("started", "Started"), ("consented", "Consented"), ("finished", "Finished"), ("booked", "Booked"))
SUMMARY_LABEL = "The summary of answers (not confirmed)"


def inbox_link(**args) -> str:
    """An inbox URL listing the conversations behind a number. unfinished=show: never hide the
    conversations without an outcome (the inbox's default may)."""
    return "/inbox?" + urlencode({**{k: v for k, v in args.items() if v not in ("", None)}, "unfinished": "show"})


@dataclass(frozen=True)
class WeekRow:
    monday: str  # YYYY-MM-DD
    label: str  # "23 Nov"
    counts: dict[str, Bar]  # series key -> number and link


@dataclass
class Dashboard:
    weeks: int
    first_week: str
    last_week: str
    rows: list[WeekRow]
    totals: dict[str, Bar]
    outcomes: list[Bar]
    tiers: list[Bar]
    drop_off: list[Bar]
    unanswered: Bar
    unanswered_questions: int  # how many questions, in the conversations counted above
    distress: Bar
    conversations: int = 0
    series: tuple[tuple[str, str], ...] = field(default=WEEKLY_SERIES)

    def week_groups(self) -> list[Group]:
        return [Group(r.label, tuple(r.counts[key] for key, _ in self.series)) for r in self.rows]


def monday_of(moment: float, clock: ClinicClock) -> date:
    local = clock.local(moment).date()
    return local - timedelta(days=local.weekday())


def parse_period(args) -> tuple[int, str]:
    """?weeks= (one of PERIODS) and ?until= (a Monday: the period's last week; default this
    week). Raises ValueError with a readable message."""
    raw = (args.get("weeks") or "").strip() or str(DEFAULT_WEEKS)
    if not raw.isdigit() or int(raw) not in PERIODS:
        raise ValueError(f"weeks must be one of {', '.join(map(str, PERIODS))}")
    until = (args.get("until") or "").strip()
    if until:
        try:
            day = datetime.strptime(until, "%Y-%m-%d").date()
        except ValueError:
            raise ValueError(f"until must be a date written YYYY-MM-DD, got {until!r}") from None
        if day.weekday() != 0:
            raise ValueError(f"until must be a Monday (the first day of a week), got {until!r}")
    return int(raw), until


def build(engine: sa.engine.Engine, weeks: int, now: float, until: str = "") -> Dashboard:
    """The dashboard for `weeks` whole weeks ending with the week of `until` (a Monday) or,
    without it, the week of `now`."""
    clock = ClinicClock.for_clinic()
    last = datetime.strptime(until, "%Y-%m-%d").date() if until else monday_of(now, clock)
    first = last - timedelta(weeks=weeks - 1)
    start, end = week_bounds(first.isoformat(), weeks)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT s.started_at, s.consented, s.outcome, s.consultation_requested, s.red_flags, "
                "s.dropped_at, s.distress, "
                "(SELECT COUNT(*) FROM portal_questions q WHERE q.conversation_id = s.conversation_id) AS questions "
                "FROM portal_summaries s WHERE s.started_at >= :start AND s.started_at < :end"
            ),
            {"start": start, "end": end},
        ).fetchall()
    period = {"week": first.isoformat(), "weeks": weeks}
    mondays = [first + timedelta(weeks=i) for i in range(weeks)]
    weekly = {m: {key: 0 for key, _ in WEEKLY_SERIES} for m in mondays}
    outcomes = {o: 0 for o in (*OUTCOMES, NO_OUTCOME)}
    tiers = {t: 0 for t in TIERS}
    dropped: dict[str, int] = {}
    unanswered = questions = distress = 0
    for r in rows:
        counts = weekly[monday_of(r.started_at, clock)]
        counts["started"] += 1
        counts["consented"] += bool(r.consented)
        counts["finished"] += r.outcome is not None
        counts["booked"] += bool(r.consultation_requested)
        outcomes[r.outcome if r.outcome in outcomes else NO_OUTCOME] += 1
        for tier in {tier_of(f) for f in json.loads(r.red_flags or "[]")}:
            tiers[tier] += 1
        if r.dropped_at:
            dropped[r.dropped_at] = dropped.get(r.dropped_at, 0) + 1
        unanswered += r.questions > 0
        questions += r.questions
        distress += bool(r.distress)

    filters = {"started": {}, "consented": {"consented": "yes"}, "finished": {"finished": "yes"}}
    filters["booked"] = {"consultation": "yes"}
    week_rows = [
        WeekRow(
            m.isoformat(),
            f"{m.day} {m:%b}",
            {
                key: Bar(
                    f"{label}, week of {m.day} {m:%b}", weekly[m][key], inbox_link(week=m.isoformat(), **filters[key])
                )
                for key, label in WEEKLY_SERIES
            },
        )
        for m in mondays
    ]
    totals = {
        key: Bar(label, sum(weekly[m][key] for m in mondays), inbox_link(**period, **filters[key]))
        for key, label in WEEKLY_SERIES
    }
    labels = load_labels()
    questionnaire = load_questionnaire()
    order = [*questionnaire.ids, AT_SUMMARY]
    drop_bars = [
        Bar(
            SUMMARY_LABEL if q == AT_SUMMARY else _question_label(questionnaire, q),
            dropped[q],
            inbox_link(**period, dropped_at=q),
        )
        for q in sorted(dropped, key=lambda q: order.index(q) if q in order else len(order))
    ]
    return Dashboard(
        weeks=weeks,
        first_week=first.isoformat(),
        last_week=last.isoformat(),
        rows=week_rows,
        totals=totals,
        outcomes=[Bar(labels.outcome(o), n, inbox_link(**period, outcome=o)) for o, n in outcomes.items()],
        tiers=[Bar(labels.tier(t), n, inbox_link(**period, tier=t)) for t, n in tiers.items()],
        drop_off=drop_bars,
        unanswered=Bar("Conversations with unanswered questions", unanswered, inbox_link(**period, unanswered="yes")),
        unanswered_questions=questions,
        distress=Bar("Conversations with distress", distress, inbox_link(**period, distress="yes")),
        conversations=len(rows),
    )


def _question_label(questionnaire, question_id: str) -> str:
    try:
        return questionnaire.get(question_id).summary
    except KeyError:  # renamed or removed since: the id, never hidden
        return question_id
