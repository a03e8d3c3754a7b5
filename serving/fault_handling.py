"""A turn either completes and is stored whole, or is not stored and the patient is told.

Rasa 3.6 has no setting or hook for what happens when the action server or the tracker
store fails during a turn, and its defaults corrupt a screening (measured, docs/faults.md):
- a custom action that cannot be reached, times out or crashes is logged and the turn goes
  on without its events ("Bot will continue, but the actions events are lost"), and the
  action timeout is hard-coded at 5 minutes (rasa.core.constants.DEFAULT_REQUEST_TIMEOUT);
- a tracker store error makes the Agent's FailSafeTrackerStore fall back to memory: a new,
  empty conversation on read, events never stored on write.

So this module wraps five Rasa 3.6.21 methods, narrowly and without copying their
bodies (tests/faults/test_fault_handling_units.py pins their source, so a Rasa upgrade fails it):
- RemoteAction.run: gives up after the action endpoint's `timeout` (endpoints.yml,
  default 12 s, well below the widget's 60 s and Twilio's 15 s), and notes the failure of a
  call that could not be completed (unreachable, timed out, 5xx) for the turn;
- MessageProcessor._run_action: when an action of this turn failed, aborts the turn
  (raises TurnAborted) instead of continuing with the action's events lost;
- FailSafeTrackerStore.on_tracker_store_(retrieve_)error: lets our store's
  TrackerStoreUnavailable through instead of falling back to an in-memory store;
- MessageProcessor.handle_message: for an aborted turn, saves nothing (the conversation
  stays exactly as before the message), replaces the turn's replies with a short apology,
  and logs a WARNING naming the fault (never the patient's text).

Installed by serving/extensions.py's list (`python -m serving run`), whatever tracker store
the endpoints file names: the action-fault handling works with any store (nothing of an
aborted turn is saved, since Rasa saves once at the end of a turn). TrackerStoreUnavailable
is raised only by our store, serving/tracker_store.py, which imports it from here. It covers
every channel: the REST widget, Twilio and Telegram all go through handle_message.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import hashlib
import logging
from typing import Any

import rasa
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.shared.exceptions import RasaException

from channels.turns import KeepsCustomWithText
from clinical import alerts
from clinical.clinic import load_clinic_settings
from clinical.offered_buttons import BUTTONS_OF, buttons_since_last_user_message, latest_question_ids
from clinical.rules import evaluate
from clinical.safety_net import DISTRESS, INDIRECT, scan
from medical_nlu.safety_component import needs_care_now

logger = logging.getLogger(__name__)

PINNED_RASA_VERSION = "3.6.21"
DEFAULT_ACTION_TIMEOUT_SECONDS = 12.0


class TurnAborted(RasaException):
    """A custom action of this turn could not be completed; nothing of the turn is kept."""


class TrackerStoreUnavailable(RasaException):
    """The tracker store's database stayed unreachable for the whole retry budget
    (raised by serving/tracker_store.py; the turn gets the apology)."""


# The failures of custom-action calls made while one action of a turn runs. A list per
# _run_action call, reached from RemoteAction.run through the asyncio task's context:
# RemoteAction is also called from inside FormAction (validation, ask actions), where the
# processor cannot see it.
_action_failures: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "screening_action_failures", default=None
)


def apology() -> str:
    return load_clinic_settings().say("fault.apology")


def safety_first(text: str | None) -> list[dict[str, Any]]:
    """The safety net's replies to a message whose turn failed: for distress, the warm reply
    and the crisis contacts to tap; for a red flag that needs care now, its advice with the
    emergency number. Nothing is recorded (the turn is not stored): the person is told what
    to do, and asked, by the apology, to send the message again."""
    if not text or text.lstrip().startswith("/"):
        return []  # a button's payload says nothing the safety net reads
    settings = load_clinic_settings()
    found = [f for f in scan(text) if needs_care_now(f)]
    distress = next((f for f in found if f.kind == DISTRESS), None)
    if distress:
        return alerts.distress_messages(settings, indirect=distress.flag == INDIRECT)
    if not found:
        return []
    flag = found[0]  # the most serious first (safety.yml's order)
    level = evaluate({flag.question: flag.value}).urgent_tier
    text = settings.say(
        "fault.safety_advice",
        description=settings.say(f"safety.descriptions.{flag.flag}"),
        advice=settings.say(f"safety.advice.{level}"),
    )
    return [{"text": text, "custom": alerts.advice_alert(settings, level)}]


def conversation_tag(sender_id: str | None) -> str:
    """A short stand-in for the conversation id in logs: for SMS it is a phone number."""
    return "#" + hashlib.sha256(str(sender_id).encode()).hexdigest()[:10]


def action_timeout(action: RemoteAction) -> float:
    configured = (action.action_endpoint.kwargs or {}).get("timeout") if action.action_endpoint else None
    return float(configured) if configured else DEFAULT_ACTION_TIMEOUT_SECONDS


def _wrap_remote_action_run(original):
    @functools.wraps(original)
    async def run(self: RemoteAction, output_channel, nlg, tracker, domain) -> list[Any]:
        timeout = action_timeout(self)
        try:
            return await asyncio.wait_for(original(self, output_channel, nlg, tracker, domain), timeout)
        except ActionExecutionRejection:
            raise  # a form's normal "not this slot" answer, not a fault
        except asyncio.TimeoutError:
            _note_failure(f"action '{self.name()}' did not answer within {timeout:.0f}s")
            raise RasaException(f"Custom action '{self.name()}' timed out after {timeout:.0f}s") from None
        except Exception as error:  # noqa: BLE001 - any failed call leaves the turn incomplete
            _note_failure(f"action '{self.name()}' failed ({_cause(error)})")
            raise

    return run


def _cause(error: BaseException) -> str:
    cause = error.__cause__
    if cause is not None and getattr(cause, "status", None):
        return f"HTTP {cause.status}"
    return "action server unreachable" if "Couldn't connect" in str(error) else type(cause or error).__name__


def _note_failure(what: str) -> None:
    failures = _action_failures.get()
    if failures is not None:
        failures.append(what)


def _wrap_run_action(original):
    @functools.wraps(original)
    async def _run_action(self: MessageProcessor, action, tracker, output_channel, nlg, prediction) -> bool:
        token = _action_failures.set([])
        try:
            should_continue = await original(self, action, tracker, output_channel, nlg, prediction)
            failures = _action_failures.get()
        finally:
            _action_failures.reset(token)
        if failures:
            # Rasa has logged the action with no events; the turn must not go on as if it had
            # run (a form would ask the next question, an outcome would be half-given).
            raise TurnAborted("; ".join(failures))
        return should_continue

    return _run_action


def _wrap_handle_message(original):
    @functools.wraps(original)
    async def handle_message(self: MessageProcessor, message) -> list[dict] | None:
        try:
            return await original(self, message)
        except (TurnAborted, TrackerStoreUnavailable) as fault:
            # Rasa saves a conversation once, at the end of the turn, so nothing of this turn
            # is stored (for a brand-new conversation, only its opening action_listen): the
            # stored conversation is as it was before the message.
            logger.warning(
                f"Turn not completed for conversation {conversation_tag(message.sender_id)}: {fault}. "
                "Nothing stored for it; the patient was asked to send it again."
            )
            channel = message.output_channel
            if isinstance(channel, CollectingOutputChannel):
                channel.messages.clear()  # replies of a turn that did not happen would mislead
            # Safety before availability: what the safety net finds in the message (it needs
            # neither the action server nor the database) is answered first.
            for reply in safety_first(message.text):
                await channel.send_response(message.sender_id, reply)
            buttons, question = (
                ([], None)
                if isinstance(fault, TrackerStoreUnavailable)
                else await _pending_buttons(self, message.sender_id)
            )
            reply: dict[str, Any] = {"text": apology()}
            if buttons:
                reply["buttons"] = buttons
            if buttons and isinstance(channel, KeepsCustomWithText):
                # The question they belong to rides along, so the REST channel tells a tap on
                # them from a stale one (channels/taps.py): it answers the question still
                # waiting. Only where `custom` stays in the same message: Rasa's own collector
                # would send it as a message of its own.
                reply["custom"] = {BUTTONS_OF: question}
            await channel.send_response(message.sender_id, reply)
            return channel.messages if isinstance(channel, CollectingOutputChannel) else None

    return handle_message


async def _pending_buttons(processor: MessageProcessor, sender_id: str) -> tuple[list[dict], str | None]:
    """The buttons of the question still waiting for an answer, offered again with the
    apology, so the patient can tap the same answer again (and SMS/Telegram keep their
    numbered options); and the id of that question (clinical/offered_buttons.py)."""
    try:
        tracker = await processor.tracker_store.retrieve(sender_id)
    except Exception:  # noqa: BLE001 - only a convenience; the apology goes out anyway
        return [], None
    events = [event.as_dict() for event in (tracker.events if tracker else [])]
    questions = latest_question_ids(events)
    return buttons_since_last_user_message(events), (questions[-1] if questions else None)


def _wrap_failsafe_callback(original):
    @functools.wraps(original)
    def callback(self: FailSafeTrackerStore, error: Exception) -> None:
        if isinstance(error, TrackerStoreUnavailable):
            raise error  # our store already retried; an in-memory stand-in would lose the turn
        return original(self, error)

    return callback


_PATCHES = (
    (RemoteAction, "run", _wrap_remote_action_run),
    (MessageProcessor, "_run_action", _wrap_run_action),
    (MessageProcessor, "handle_message", _wrap_handle_message),
    (FailSafeTrackerStore, "on_tracker_store_error", _wrap_failsafe_callback),
    (FailSafeTrackerStore, "on_tracker_store_retrieve_error", _wrap_failsafe_callback),
)


def install() -> None:
    """Idempotent. Refuses to patch another Rasa version: its internals may differ."""
    if rasa.__version__ != PINNED_RASA_VERSION:
        raise RuntimeError(
            f"serving/fault_handling.py wraps Rasa {PINNED_RASA_VERSION} internals, "
            f"found Rasa {rasa.__version__}: re-check them and update the pin."
        )
    for owner, name, wrap in _PATCHES:
        current = getattr(owner, name)
        if not getattr(current, "_screening_fault_handling", False):
            patched = wrap(current)
            patched._screening_fault_handling = True
            setattr(owner, name, patched)
