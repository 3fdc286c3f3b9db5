"""Where the files the job reads at run time live: the SQL models (sql/) and the GX suites
(expectations/), and prefect.yaml.

In a source checkout (and an editable install) they are the repository's top-level folders;
a wheel ships them as package data under `transforms/_assets/` (see pyproject.toml), found
through importlib.resources. Code asks here, never for a path relative to itself.
"""

from importlib.resources import files
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent


def asset_dir(name: str) -> Path:
    """The folder `sql` or `expectations`, wherever this installation keeps it."""
    packaged = files("transforms").joinpath("_assets").joinpath(name)
    if packaged.is_dir():
        return Path(str(packaged))
    return _CHECKOUT / name


def project_file(name: str) -> Path:
    """A file of the repository's top level that the job reads (prefect.yaml)."""
    packaged = files("transforms").joinpath("_assets").joinpath("project").joinpath(name)
    if packaged.is_file():
        return Path(str(packaged))
    return _CHECKOUT / name


def is_checkout() -> bool:
    """Whether this is a source checkout (the repository's own folders) or a wheel install."""
    return not files("transforms").joinpath("_assets").is_dir()


SQL_DIR = asset_dir("sql")
EXPECTATIONS_DIR = asset_dir("expectations")
