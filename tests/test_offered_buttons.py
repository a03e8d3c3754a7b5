"""One reading of "which buttons were offered" for the action server and fault handling."""

from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

from clinical.offered_buttons import buttons_since_last_user_message, events_before_latest_user_message

YES = {"title": "Yes", "payload": '/inform{"option": "yes"}'}
NO = {"title": "No", "payload": '/inform{"option": "no"}'}
OLD = {"title": "Old", "payload": "/old"}


def conversation(*events):
    return [event.as_dict() for event in events]  # what rasa-sdk hands the actions, too


def test_the_buttons_of_the_messages_since_the_last_user_message_in_order():
    events = conversation(
        BotUttered("Pick", data={"buttons": [OLD]}),
        UserUttered("hi"),
        ActionExecuted("x"),
        BotUttered("Intro"),
        BotUttered("Q?", data={"buttons": [YES]}),
        SlotSet("requested_slot", "q"),
        BotUttered("Or", data={"buttons": [NO]}),
    )
    assert buttons_since_last_user_message(events) == [YES, NO]


def test_nothing_offered_after_the_latest_message_means_no_buttons():
    events = conversation(BotUttered("Q?", data={"buttons": [YES]}), UserUttered("yes"))
    assert buttons_since_last_user_message(events) == []
    assert buttons_since_last_user_message([]) == []


def test_what_the_person_was_answering_is_read_before_their_latest_message():
    events = conversation(
        UserUttered("hi"),
        BotUttered("Q?", data={"buttons": [YES, NO]}),
        UserUttered("/inform"),
        BotUttered("Next", data={"buttons": [OLD]}),
    )
    before = events_before_latest_user_message(events)
    assert buttons_since_last_user_message(before) == [YES, NO]
    no_user_message = conversation(BotUttered("x"))
    assert events_before_latest_user_message(no_user_message) == no_user_message
