"""``parkgate-site`` with every thread under cProfile, counting CPU time (not wall time, which a
loaded machine fills with waiting); the merged stats go to the file named by ``AGENT_PROFILE``.

    AGENT_PROFILE=/tmp/agent.prof .venv/bin/python bench/site_latency.py --count 500
    .venv/bin/python -c "import pstats; pstats.Stats('/tmp/agent.prof').sort_stats('cumtime').print_stats(40)"
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
profiles: list[cProfile.Profile] = []
_run = threading.Thread.run


def _profiled_run(self: threading.Thread) -> None:
    profile = cProfile.Profile(time.thread_time)
    profiles.append(profile)
    profile.enable()
    try:
        _run(self)
    finally:
        profile.disable()


threading.Thread.run = _profiled_run  # type: ignore[method-assign]

from parkgate.sites.agent import main  # noqa: E402

if __name__ == "__main__":
    main_profile = cProfile.Profile(time.thread_time)
    profiles.append(main_profile)
    main_profile.enable()
    try:
        main(sys.argv[1:])
    finally:
        main_profile.disable()
        stats: pstats.Stats | None = None
        for profile in profiles:
            profile.create_stats()
            stats = pstats.Stats(profile) if stats is None else stats.add(profile)
        assert stats is not None
        stats.dump_stats(os.environ["AGENT_PROFILE"])
