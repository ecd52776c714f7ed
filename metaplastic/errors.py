"""Exceptions. Every error a user can cause is a :class:`MetaplasticError` whose message is
one line that says what is wrong and how to fix it; the CLI prints it and exits with 2."""

from __future__ import annotations


class MetaplasticError(Exception):
    """Base class of errors caused by input (names, specs, files, options)."""


class UnknownNameError(MetaplasticError, KeyError):
    """A backend or task family name that no installed entry point provides."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class BackendUnavailable(MetaplasticError, ImportError):
    """The backend exists but cannot be used here (missing extra, import error)."""


class ConfigError(MetaplasticError, ValueError):
    """A malformed spec, an unknown or out-of-range parameter, a bad config key."""


class InvalidObservation(MetaplasticError, ValueError):
    """An observation that is not in the observation space (NaN, wrong shape)."""


class InvalidReward(MetaplasticError, ValueError):
    """A reward that is not a finite number (NaN, infinity, not numeric)."""


class AgentContractError(MetaplasticError, RuntimeError):
    """An agent that broke the :class:`~metaplastic.core.Agent` contract (it mutated its
    inputs, or a privileged learner's agent cannot be shown its task)."""


class RunDirError(MetaplasticError, OSError):
    """A run directory or checkpoint that is missing, corrupt or foreign."""


class InvalidInput(MetaplasticError, ValueError):
    """What an agent is given (an observation, an action, a reward, a flag) is outside what
    the task's spaces allow; the message names the field, the value and the space."""


class TrainingDiverged(MetaplasticError, FloatingPointError):
    """Meta-training produced a non-finite loss, gradient or parameter; the run stops and
    keeps its last good checkpoint."""


class RunLocked(RunDirError):
    """Another process is writing this run directory (the message names its PID)."""


class LimitExceeded(ConfigError):
    """A size (tasks, arms, steps, batch) is above the documented limit or would not fit in
    memory."""


class RuntimeMissing(MetaplasticError):
    """An external runtime (a Python interpreter, a provisioned environment such as Lava's)
    that is not installed, broken or could not be installed here; the message says how to
    install it."""


def first_line(exc: BaseException) -> str:
    """The first line of ``exc``'s message (its type name when it has none), at most 200
    characters: what a one-line error quotes of an underlying exception."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


class WorkerFailed(MetaplasticError, RuntimeError):
    """A worker process failed: one in a provisioned runtime (e.g. Lava's) crashed, hung,
    was killed or reported an error (its process group has been killed), or an executor's
    worker kept dying after its retries (its jobs were not run)."""

