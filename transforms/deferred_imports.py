"""Modules imported when first used, not when a library that names them is imported.

Great Expectations imports scipy.stats and altair for one expectation the suites never use
(`expect_column_kl_divergence_to_be_less_than`): ~1 s of its ~2.5 s import, which a tiny
run's check stage waits for. `defer` puts a stand-in for such a module in `sys.modules`
before that import; the import statement then takes the stand-in, and the module itself
is imported at the first attribute read, which the stand-in forwards from then on. Python's
own `importlib.util.LazyLoader` does not do: the import system reads the `__spec__` of a
module it finds in `sys.modules`, which loads a lazy module at once.
"""

import importlib
import importlib.machinery
import sys
import types


class Deferred(types.ModuleType):
    """A stand-in for the module `name` until one of its attributes is read."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        # what the import system reads of a module found in sys.modules (not initializing)
        self.__spec__ = importlib.machinery.ModuleSpec(name, None)

    def __getattr__(self, attribute: str):
        # called only for what the stand-in does not hold: the module's own attributes
        return getattr(self.imported(), attribute)

    def imported(self) -> types.ModuleType:
        """The module itself, imported now unless it was already. Threads reading at once
        are safe: the import system imports a module once and makes the others wait for it."""
        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
        try:
            module = importlib.import_module(name)
        except BaseException:
            sys.modules.setdefault(name, self)  # a later read tries again
            raise
        self.__dict__.update(module.__dict__)  # later reads find the attributes here
        return module


def defer(*names: str) -> None:
    """A stand-in for each named module not imported yet (see the module's docstring)."""
    for name in names:
        if name not in sys.modules:
            sys.modules[name] = Deferred(name)
