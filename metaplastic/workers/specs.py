"""What each external runtime is: the interpreter it needs, its pinned requirements and the
module whose import proves it works. Data only; :mod:`metaplastic.workers.provision`
installs them.

Example:
    >>> spec = RUNTIMES["lava"]
    >>> spec.python, spec.requirements
    ('3.10', ('lava-nc==0.10.0', 'numpy<2'))
    >>> spec.distributions
    ('lava-nc', 'numpy')
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DISTRIBUTION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class RuntimeSpec:
    """One runtime: ``name`` (what ``metaplastic runtime install NAME`` takes), ``python``
    (the ``major.minor`` interpreter version it needs), ``requirements`` (pip requirement
    strings, pinned), ``probe`` (a module to import to check it is healthy) and ``package``
    (the name the worker code is installed under in its site-packages).

    Example:
        >>> RuntimeSpec("toy", "3.10", ("numpy<2",), "numpy").package
        'metaplastic_runtime'
    """

    name: str
    python: str
    requirements: tuple[str, ...]
    probe: str
    package: str = "metaplastic_runtime"

    @property
    def distributions(self) -> tuple[str, ...]:
        """The distribution names of :attr:`requirements` (what ``importlib.metadata``
        reports a version for).

        Example:
            >>> RuntimeSpec("toy", "3.10", ("numpy<2", "lava-nc[all]==0.10.0"), "numpy").distributions
            ('numpy', 'lava-nc')
        """
        names = []
        for req in self.requirements:
            match = _DISTRIBUTION.match(req.strip())
            if match is None:
                raise ValueError(f"runtime {self.name!r}: requirement {req!r} does not start with a distribution name")
            names.append(match.group(0))
        return tuple(names)


RUNTIMES: dict[str, RuntimeSpec] = {
    "lava": RuntimeSpec(
        name="lava",
        python="3.10",
        requirements=("lava-nc==0.10.0", "numpy<2"),
        probe="lava.magma.core.run_configs",
    ),
}
