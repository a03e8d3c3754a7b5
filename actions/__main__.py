"""The action server's launcher: rasa-sdk's server, after the production-settings check.

    SANIC_HOST=127.0.0.1 python -m actions --port 5055 --logging-config-file security/logging.yml

The arguments are rasa-sdk's (`rasa run actions`'s); --actions defaults to this package.
The check (security/production_settings.py, "actions") runs through rasa-sdk's own plugin
hook, after rasa-sdk has read the logging config (so it sees whether log redaction is on)
and before the server listens: in production mode an unsafe setting stops the process
with exit status 2. Started as `rasa run actions`, the check does not run.
"""

from __future__ import annotations

import logging
import sys

import pluggy

logger = logging.getLogger("actions.__main__")  # not "__main__" when run with -m

_hookimpl = pluggy.HookimplMarker("rasa_sdk")


class CheckBeforeServing:
    """A plugin for rasa-sdk's plugin manager (rasa_sdk/plugin.py): its server calls
    `attach_sanic_app_extensions` once, after loading the actions and before listening."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv

    @_hookimpl
    def attach_sanic_app_extensions(self, app) -> None:
        from security.production_settings import refuse_unsafe_production_settings

        refuse_unsafe_production_settings("actions", argv=self.argv)
        logger.info("action server extension installed: production-settings check (security/production_settings.py)")


def _sdk_spelling(argument: str) -> str:
    """`rasa run actions` spells it --logging-config-file, rasa-sdk 3.6's own parser
    --logging-config_file; both are accepted here, as by `rasa run actions`."""
    if argument == "--logging-config-file" or argument.startswith("--logging-config-file="):
        return argument.replace("--logging-config-file", "--logging-config_file", 1)
    return argument


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    from rasa_sdk.__main__ import main_from_args
    from rasa_sdk.endpoint import create_argument_parser
    from rasa_sdk.plugin import plugin_manager

    args = create_argument_parser().parse_args([_sdk_spelling(argument) for argument in argv])
    args.actions = args.actions or "actions"
    plugin_manager().register(CheckBeforeServing(["python -m actions", *argv]))
    main_from_args(args)


if __name__ == "__main__":
    main()
