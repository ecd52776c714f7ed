"""Shared plumbing of the backends that run a given :class:`~metaplastic.spiking.SpikingNet`
(``numba``, ``snntorch``): the ``net`` config key (an object, or the path of an ``.npz``
or NIR file) and the copy of that network a run directory keeps, so that a run does not
depend on where the original file was.

Example:
    >>> config, net = split_net("numba", {"net": "", "hidden": 8})
    >>> net is None, config["hidden"]
    (True, 8)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from metaplastic.errors import ConfigError
from metaplastic.params import Param
from metaplastic.runs.rundir import RunDir

NET_PARAM = Param("net", str, "", "a SpikingNet to run, or the path of one (.npz written by SpikingNet.save, or a "
                  "NIR file); empty: meta-train a new one")


def read_net(path: str | os.PathLike) -> Any:
    """A :class:`SpikingNet` from an ``.npz`` (``SpikingNet.save``) or a NIR file (needs ``nir``)."""
    from metaplastic.spiking import SpikingNet

    p = Path(path)
    if p.suffix.lower() == ".npz":
        return SpikingNet.load(p)
    from metaplastic.spiking.nir_io import read_nir

    return read_nir(p)


def net_in_run(config: dict[str, Any], run: RunDir) -> dict[str, Any]:
    """A saved config whose ``net`` is given: point it at the copy in the run directory."""
    if config.get("net") and run.has(RunDir.NET):
        config["net"] = str(run.file(RunDir.NET))
    return config


def split_net(owner: str, config: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """Take a ``net=SpikingNet`` object out of ``config`` (it is not a JSON config value);
    a path stays in the config, to be read with :func:`read_net`."""
    from metaplastic.spiking import SpikingNet

    net = config.get("net")
    if isinstance(net, SpikingNet):
        return {k: v for k, v in config.items() if k != "net"}, net
    if net is not None and not isinstance(net, (str, os.PathLike)):
        raise ConfigError(f"backend {owner}: net must be a SpikingNet or the path of one, got {type(net).__name__}")
    if isinstance(net, os.PathLike):
        config = {**config, "net": os.fspath(net)}
    return config, None


def given_net(owner: str, config: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """``(config, net)``: the network ``make(owner, net=...)`` was given (an object, or read
    from the path in the config), or ``None``."""
    config, net = split_net(owner, config)
    if net is None and config.get("net"):
        net = read_net(config["net"])
    return config, net
