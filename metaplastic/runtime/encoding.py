"""The input of a meta-RL policy, as RL² defines it (Duan et al. 2016): the observation,
the previous action, the previous reward and an episode-boundary flag, concatenated into
one float vector. numpy only, so every backend (torch, snntorch, numba) shares it.

Discrete spaces are one-hot; Box spaces are flattened as they are.

Example:
    >>> from gymnasium import spaces
    >>> import numpy as np
    >>> enc = TrialInputEncoder(spaces.Discrete(3), spaces.Discrete(2))
    >>> enc.size
    7
    >>> enc.encode(np.array([1]), np.array([0]), np.array([1.0]), np.array([True])).tolist()
    [[0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0]]
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from metaplastic.errors import ConfigError


def space_width(space: spaces.Space) -> int:
    """How many floats encode one element of ``space``."""
    if isinstance(space, spaces.Discrete):
        return int(space.n)
    if isinstance(space, spaces.Box):
        return int(np.prod(space.shape))
    raise ConfigError(f"spaces of type {type(space).__name__} are not supported yet; use Discrete or Box")


def encode_space(space: spaces.Space, x: Any, batch: int) -> np.ndarray:
    """Encode a batch of elements of ``space`` as a ``(batch, width)`` float32 array."""
    if isinstance(space, spaces.Discrete):
        idx = np.asarray(x, dtype=np.int64).reshape(batch) - int(space.start)
        out = np.zeros((batch, int(space.n)), dtype=np.float32)
        out[np.arange(batch), idx] = 1.0
        return out
    return np.asarray(x, dtype=np.float32).reshape(batch, -1)


class TrialInputEncoder:
    """Builds ``[obs, previous action, previous reward, boundary flag]`` per lane.

    At the first step of a trial the previous action is all zeros and the reward 0.
    ``boundary`` is 1 on the first step of every episode (RL²'s termination flag).
    """

    def __init__(self, observation_space: spaces.Space, action_space: spaces.Space):
        self.observation_space = observation_space
        self.action_space = action_space
        self.obs_width = space_width(observation_space)
        self.act_width = space_width(action_space)
        self.size = self.obs_width + self.act_width + 2

    def encode_action(self, actions: Any) -> np.ndarray:
        """``(B, act_width)`` encoding of a batch of actions (one-hot for Discrete)."""
        return encode_space(self.action_space, actions, int(np.shape(actions)[0]))

    def assemble(self, obs: Any, prev_action_enc: np.ndarray, prev_reward: Any, boundary: Any) -> np.ndarray:
        """Like :meth:`encode`, with the previous actions already encoded."""
        b = prev_action_enc.shape[0]
        return np.concatenate(
            [encode_space(self.observation_space, obs, b), prev_action_enc.astype(np.float32, copy=False),
             np.asarray(prev_reward, dtype=np.float32).reshape(b, 1), np.asarray(boundary, dtype=np.float32).reshape(b, 1)],
            axis=1,
        )

    def encode(self, obs: Any, prev_action: Any | None, prev_reward: Any, boundary: Any) -> np.ndarray:
        """``(B, size)`` float32 inputs; ``prev_action=None`` (trial start) encodes zeros."""
        b = int(np.shape(prev_reward)[0])
        enc = np.zeros((b, self.act_width), dtype=np.float32) if prev_action is None else self.encode_action(prev_action)
        return self.assemble(obs, enc, prev_reward, boundary)


def encode_into(space: spaces.Space, x: Any, out: np.ndarray, rows: np.ndarray | None = None) -> None:
    """Write the encoding of ``x`` (one element of ``space`` per row in ``rows``; None: every
    row) into ``out`` in place (``out`` is a column block of an input buffer)."""
    if isinstance(space, spaces.Discrete):
        idx = np.asarray(x, dtype=np.int64).reshape(-1) - int(space.start)
        if rows is None:
            out[:] = 0.0
            out[np.arange(out.shape[0]), idx] = 1.0
        else:
            out[rows] = 0.0
            out[rows, idx] = 1.0
    elif rows is None:
        out[:] = np.asarray(x).reshape(out.shape)
    else:
        out[rows] = np.asarray(x).reshape(len(rows), -1)


class TrialInputs:
    """Per-lane RL² inputs kept in one ``(n, size)`` float32 buffer: the observation is
    written at each step, the previous action, previous reward and boundary flag when a
    transition is recorded (numpy; shared by every RL² runtime).

    Example:
        >>> from gymnasium import spaces
        >>> inputs = TrialInputs(TrialInputEncoder(spaces.Discrete(1), spaces.Discrete(2)), 2)
        >>> inputs.record(np.array([1, 0]), np.array([1.0, 0.0]), np.array([False, True]), np.array([True, False]))
        >>> inputs.assemble(np.zeros(2, int)).tolist()
        [[1.0, 0.0, 1.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0, 1.0]]
    """

    def __init__(self, encoder: TrialInputEncoder, n: int):
        self.encoder, self.n = encoder, int(n)
        self.x = np.zeros((self.n, encoder.size), dtype=np.float32)
        ow, aw = encoder.obs_width, encoder.act_width
        self._obs, self._act = self.x[:, :ow], self.x[:, ow : ow + aw]
        self._all = np.arange(self.n)
        self.reset()

    @property
    def prev_reward(self) -> np.ndarray:
        return self.x[:, -2]

    def reset(self) -> None:
        """A new trial in every lane: no previous action, reward 0, boundary set."""
        self.x[:] = 0.0
        self.x[:, -1] = 1.0

    def assemble(self, obs: Any) -> np.ndarray:
        """The ``(n, size)`` inputs for observations ``obs``: the buffer itself, valid until
        the next call (copy it to keep it)."""
        encode_into(self.encoder.observation_space, obs, self._obs)
        return self.x

    def record(self, actions: Any, rewards: Any, done: Any, decide: np.ndarray) -> None:
        """Remember what the deciding lanes did and got (the next step's inputs)."""
        if decide.all():
            encode_into(self.encoder.action_space, actions, self._act)
            self.x[:, -2] = rewards
            self.x[:, -1] = done
            return
        rows = np.flatnonzero(decide)
        if rows.size:
            encode_into(self.encoder.action_space, np.asarray(actions)[rows], self._act, rows)
            self.x[rows, -2] = np.asarray(rewards)[rows]
            self.x[rows, -1] = np.asarray(done)[rows]
