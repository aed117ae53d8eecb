"""The `parkgate` command: Django's management commands for an installed Parkgate.

    parkgate migrate
    parkgate collectstatic --noinput
    parkgate db_worker
    parkgate housekeeping --every 60

Settings come from the environment (see deploy/parkgate.env.example).
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parkgate.config.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv)
    if argv[1:2] == ["manage"]:  # `parkgate manage migrate` reads as well as `parkgate migrate`
        del argv[1]
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
