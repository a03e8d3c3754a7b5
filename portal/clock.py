"""Times in the clinic's time zone (clinic.yml ``time_zone``).

The stores keep UTC (tracker timestamps are Unix seconds, consultation requests are
timezone-aware datetimes); staff read local times, because a receptionist calls a patient
back by the clinic's clock. Every time the portal shows or exports goes through here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from clinical.clinic import load_clinic_settings

Moment = float | int | datetime | None


@dataclass(frozen=True)
class ClinicClock:
    zone: ZoneInfo

    @classmethod
    def for_clinic(cls) -> ClinicClock:
        return cls(ZoneInfo(load_clinic_settings().time_zone))

    def local(self, moment: Moment) -> datetime | None:
        """A Unix timestamp or a datetime, as an aware datetime in the clinic's zone. A naive
        datetime is taken as UTC: that is how SQLite hands back what was stored as UTC."""
        aware = _utc(moment)
        return aware.astimezone(self.zone) if aware else None

    def show(self, moment: Moment) -> str:
        """ "Sat 28 Nov 2026, 14:05 GMT": minutes, the weekday and the zone's abbreviation."""
        local = self.local(moment)
        return local.strftime("%a %d %b %Y, %H:%M %Z") if local else ""

    def iso(self, moment: Moment) -> str:
        """For CSV files: ISO 8601 with the offset, to the minute ("2026-11-28T14:05+00:00")."""
        local = self.local(moment)
        return local.isoformat(timespec="minutes") if local else ""


def waited(since: Moment, now: Moment) -> str:
    """How long something has waited, as staff say it: "45 min", "3 h 20 min", "2 days 4 h"."""
    start, end = _utc(since), _utc(now)
    if start is None or end is None:
        return ""
    minutes = max(0, int((end - start).total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} day{'s' if days != 1 else ''} {hours} h"
    if hours:
        return f"{hours} h {mins} min"
    return f"{mins} min"


def _utc(moment: Moment) -> datetime | None:
    if moment is None or moment == "":
        return None
    if isinstance(moment, datetime):
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return datetime.fromtimestamp(float(moment), timezone.utc)
