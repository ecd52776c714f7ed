"""The shared outer loop (needs torch): batched trial rollouts, advantage estimation and
the RL² actor-critic update, written once for every recurrent policy — the dense GRU of
the ``torch`` backend and the spiking networks of the ``snntorch`` backend alike.

A policy plugs in by implementing :class:`~metaplastic.training.policy.RecurrentPolicy`.
"""
