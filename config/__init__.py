"""Compatibility: the settings moved into the installable package, as ``parkgate.config``.

``config.settings``, ``config.urls``, ``config.wsgi`` and ``config.testenv`` still import (from the
checkout only): their modules are looked up in parkgate/config/. New code names ``parkgate.config.*``.
"""

from pathlib import Path

__path__.append(str(Path(__file__).resolve().parent.parent / "parkgate" / "config"))
