"""Torch building blocks shared by every torch model and outer loop (dense, spiking, RL²,
MAML): action heads, advantage estimation, the operation counts of torch layers, the
divergence checks of a gradient step (:mod:`.finite`), and gradient shards: a batch split
over an executor's workers (:mod:`.shards`).
Needs torch; nothing here knows of backends or the registry."""
