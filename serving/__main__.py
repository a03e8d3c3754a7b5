"""The Rasa server's launcher: Rasa's own CLI, with the project's server extensions installed.

    python -m serving run   --model models/screening.tar.gz --endpoints endpoints.yml \
                            --credentials credentials.yml --logging-config-file security/logging.yml
    python -m serving shell --model models/screening.tar.gz --endpoints endpoints.yml

The arguments are exactly `rasa run`'s / `rasa shell`'s: they are handed to Rasa's CLI
(rasa.__main__.main), with one plugin registered in Rasa's plugin manager that installs
serving/extensions.py's list after Rasa has read the logging config and before it loads
any channel, store or model. The action server has its own launcher: `python -m actions`.
"""

from __future__ import annotations

import sys

COMMANDS = ("run", "shell")
USAGE = (
    "usage: python -m serving run|shell [the arguments of `rasa run` / `rasa shell`]\n"
    "Starts the Rasa server with the project's server extensions (serving/extensions.py; "
    "docs/deployment.md). The action server: python -m actions [--port 5055 ...]."
)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS or argv[:2] == ["run", "actions"]:
        print(USAGE, file=sys.stderr)
        raise SystemExit(2)

    from rasa.__main__ import main as rasa_main
    from rasa.plugin import plugin_manager

    from serving.extensions import InstallBeforeTheCommand

    plugin_manager().register(InstallBeforeTheCommand())
    sys.argv = ["rasa", *argv]  # what Rasa's CLI parses (and the production check reads)
    rasa_main()


if __name__ == "__main__":
    main()
