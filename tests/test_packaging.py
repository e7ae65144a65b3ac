import fnmatch
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib", reason="tomllib is Python >= 3.11")

ROOT = Path(__file__).parent.parent


def test_every_data_file_of_the_package_is_shipped():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["pix2color"]
    package = ROOT / "pix2color"
    data = [p.relative_to(package).as_posix() for p in package.rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc")]
    assert "openmoji_reserved.txt" in data and "weights/sketch/generator.keras" in data
    assert "weights/gray/generator.keras" in data and "weights/sketch/pix2color.json" in data
    missing = [f for f in data if not any(fnmatch.fnmatch(f, pattern) for pattern in patterns)]
    assert not missing, f"not in package-data: {missing}"
