"""transforms/deferred_imports.py: a deferred module is imported at its first use, and only
then; Great Expectations' import leaves scipy.stats and altair to their first use."""

import importlib
import subprocess
import sys
import textwrap

import pytest

from transforms import deferred_imports

# What a module a test writes records when it runs (its attributes are read back through it).
COUNTER = "IMPORTS = []\n"


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A package `deferme` with a module `heavy` that counts its imports, on sys.path."""
    (tmp_path / "deferme").mkdir()
    (tmp_path / "deferme" / "__init__.py").write_text(COUNTER)
    (tmp_path / "deferme" / "heavy.py").write_text(textwrap.dedent("""
        import deferme
        deferme.IMPORTS.append("heavy")
        ANSWER = 42
        def double(x):
            return 2 * x
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [name for name in sys.modules if name.split(".")[0] == "deferme"]:
        del sys.modules[name]


def test_a_deferred_module_is_imported_at_its_first_attribute_read_and_only_once(package):
    deferred_imports.defer("deferme.heavy")
    import deferme
    from deferme import heavy  # what `from package import module` gets: the stand-in

    assert isinstance(heavy, deferred_imports.Deferred) and deferme.IMPORTS == []
    import deferme.heavy as again  # noqa: F401 - the import statement takes the stand-in too

    assert deferme.IMPORTS == []
    assert heavy.ANSWER == 42 and heavy.double(21) == 42
    assert deferme.IMPORTS == ["heavy"]
    # after the first read the module itself is in sys.modules and its attributes on the stand-in
    assert not isinstance(sys.modules["deferme.heavy"], deferred_imports.Deferred)
    assert sys.modules["deferme.heavy"].ANSWER == 42 and "ANSWER" in vars(heavy)
    from deferme.heavy import double

    assert double(4) == 8 and deferme.IMPORTS == ["heavy"]


def test_an_imported_module_is_left_alone_and_a_missing_one_fails_at_its_first_use(package):
    import deferme.heavy

    deferred_imports.defer("deferme.heavy", "deferme.missing")
    assert sys.modules["deferme.heavy"] is deferme.heavy  # imported already: no stand-in
    from deferme import missing

    with pytest.raises(ModuleNotFoundError, match="deferme.missing"):
        _ = missing.anything
    # the stand-in stays for a later read, which tries the import again
    assert isinstance(sys.modules["deferme.missing"], deferred_imports.Deferred)
    (package / "deferme" / "missing.py").write_text("FOUND = True\n")
    importlib.invalidate_caches()  # the folder's listing may be cached from the failed import
    assert missing.FOUND is True


def test_great_expectations_import_leaves_scipy_stats_and_altair_to_their_first_use():
    """In a process of its own (this one may have imported either already)."""
    code = textwrap.dedent("""
        import sys
        from transforms import deferred_imports, validation
        validation._quiet_gx()
        names = validation.IMPORTED_WHEN_USED
        print(*(type(sys.modules[name]).__name__ for name in names))
        from scipy import stats
        print(round(float(stats.norm.cdf(0)), 2), type(sys.modules["scipy.stats"]).__name__)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["Deferred Deferred", "0.5 module"]
