"""Run ``parkgate-site`` with Django and defusedxml made unimportable, as on a small site box.

The process tests start the agent through this file: any import of Django on a code path they
exercise fails the test, so the agent's "stdlib + paho-mqtt + cryptography + requests" promise is
checked, not assumed.
"""

from __future__ import annotations

import importlib.abc
import sys
from pathlib import Path


class _Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):  # type: ignore[no-untyped-def]
        if name.split(".")[0] in ("django", "defusedxml"):
            raise ImportError(f"{name} is not installed on a site box")
        return None


if __name__ == "__main__":
    sys.meta_path.insert(0, _Blocker())
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from parkgate.sites.agent import main

    sys.exit(main(sys.argv[1:]))
