"""Build hook: compile the translation catalogues into the wheel.

Compiled catalogues (.mo) are not kept in git; the wheel must carry them, since an installed
Parkgate may not write into its own site-packages. Everything else is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithTranslations(build_py):
    def run(self) -> None:
        built = Path(self.build_lib) / "parkgate"
        # pip builds in the source tree: a file deleted or renamed since the last build (a migration
        # of another branch) would otherwise stay in build/lib and ship in the wheel.
        shutil.rmtree(built, ignore_errors=True)
        super().run()
        import polib

        catalogues = sorted(built.glob("*/locale/*/LC_MESSAGES/*.po"))
        if not catalogues:
            raise SystemExit("setup.py: no translation catalogue found under parkgate/*/locale/")
        for po_path in catalogues:
            polib.pofile(str(po_path)).save_as_mofile(str(po_path.with_suffix(".mo")))


setup(cmdclass={"build_py": BuildWithTranslations})
