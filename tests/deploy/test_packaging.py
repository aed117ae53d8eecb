"""The wheel an operator installs carries the whole product and nothing of the checkout's tooling."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # pip builds in the source tree: a leftover of an earlier build must not ship (setup.py).
    stale = ROOT / "build" / "lib" / "parkgate" / "parking" / "migrations" / "0999_left_by_another_branch.py"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_text("raise ImportError\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(ROOT)],
        check=True,
        cwd=out,
    )
    (built,) = out.glob("parkgate-*.whl")
    return built


@pytest.fixture(scope="module")
def wheel_names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def test_only_the_parkgate_package_is_installed(wheel_names: list[str]) -> None:
    tops = {name.split("/")[0] for name in wheel_names}
    assert tops == {"parkgate", next(top for top in tops if top.endswith(".dist-info"))}
    assert not any(
        name.startswith(("tests/", "bench/", "config/", "devtools/", "scripts/")) for name in wheel_names
    )


def test_nothing_left_from_an_earlier_build_ships(wheel_names: list[str]) -> None:
    assert not [name for name in wheel_names if "0999_left_by_another_branch" in name]
    assert "parkgate/parking/migrations/0001_initial.py" in wheel_names


def test_the_settings_templates_static_files_and_migrations_are_inside(wheel_names: list[str]) -> None:
    names = set(wheel_names)
    assert "parkgate/config/settings.py" in names
    assert "parkgate/config/wsgi.py" in names
    assert "parkgate/__main__.py" in names
    for app in ("access", "booking", "parking", "accounts"):
        assert f"parkgate/{app}/migrations/0001_initial.py" in names
    assert any(name.startswith("parkgate/core/templates/") and name.endswith(".html") for name in names)
    assert any(name.startswith("parkgate/core/static/") and name.endswith(".css") for name in names)


def test_every_catalogue_is_compiled_into_the_wheel(wheel_names: list[str]) -> None:
    catalogues = sorted(
        p.relative_to(ROOT).as_posix() for p in ROOT.glob("parkgate/*/locale/*/LC_MESSAGES/*.po")
    )
    assert catalogues, "no catalogue found in the checkout"
    for po in catalogues:
        assert po in wheel_names
        assert po[: -len(".po")] + ".mo" in wheel_names


def test_the_parkgate_command_is_declared(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [name for name in archive.namelist() if name.endswith(".dist-info/entry_points.txt")]
        entry_points = archive.read(name).decode()
    assert entry_points.split() == [
        "[console_scripts]",
        "parkgate",
        "=",
        "parkgate.__main__:main",
        "parkgate-site",
        "=",
        "parkgate.sites.agent:main",
    ]


def test_the_package_never_imports_the_checkout_shim() -> None:
    """`config` (the checkout's shim) is not in the wheel: an installed Parkgate importing it dies."""
    pattern = re.compile(r"^\s*(from|import)\s+config(\.|\s|$)", re.MULTILINE)
    offenders = [
        path.relative_to(ROOT).as_posix()
        for path in sorted((ROOT / "parkgate").rglob("*.py"))
        if pattern.search(path.read_text())
    ]
    assert offenders == []
