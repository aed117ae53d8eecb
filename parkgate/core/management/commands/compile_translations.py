"""Compile every .po file of the project to .mo, in pure Python (no GNU gettext needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Compile the project's translations (parkgate/**/locale/*/LC_MESSAGES/*.po) to .mo files."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args: Any, quiet: bool = False, **options: Any) -> None:
        root = Path(settings.PACKAGE_DIR)
        count = 0
        for po_path in sorted(root.glob("*/locale/*/LC_MESSAGES/*.po")):
            try:
                catalogue = polib.pofile(str(po_path))
            except (OSError, ValueError) as error:
                raise CommandError(f"{po_path}: {error}") from error
            mo_path = po_path.with_suffix(".mo")
            if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                continue
            catalogue.save_as_mofile(str(mo_path))
            count += 1
        if not quiet:
            self.stdout.write(f"Compiled {count} translation catalogue(s).")
