"""A REST channel with the production-settings hook, for tests only: it stands in for the
project's REST channel (channels/), whose from_credentials makes the same call."""
from rasa.core.channels.rest import RestInput

from security.production_settings import refuse_unsafe_production_settings


class CheckedRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials):
        refuse_unsafe_production_settings("rasa")
        return super().from_credentials(credentials)
