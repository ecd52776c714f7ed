"""Dense (non-spiking) torch models of the ``torch`` backend: the RL² recurrent
actor-critic and the MAML policy."""
