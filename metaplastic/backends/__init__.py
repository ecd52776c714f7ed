"""Thin adapters, one per backend, each registered as an entry point in the group
``metaplastic.backends``. The substance lives in :mod:`metaplastic.spiking`,
:mod:`metaplastic.energy_models` and :mod:`metaplastic.symbolic`.

This package shares its name with the function :func:`metaplastic.backends` of the
public contract. Importing a submodule (``metaplastic.backends.random``) rebinds the
attribute ``metaplastic.backends`` to this package, so the package is made callable:
``metaplastic.backends()`` lists the backends whichever of the two the name holds.

Example:
    >>> import metaplastic, metaplastic.backends.random
    >>> any(b.name == "random" for b in metaplastic.backends())
    True
"""

import sys
import types


class _CallableModule(types.ModuleType):
    def __call__(self):
        from metaplastic.api import backends

        return backends()


sys.modules[__name__].__class__ = _CallableModule
