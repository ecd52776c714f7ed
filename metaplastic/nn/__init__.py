"""Torch building blocks shared by every torch model and outer loop (dense, spiking, RL²,
MAML): action heads, advantage estimation, the operation counts of torch layers, and the
divergence checks of a gradient step (:mod:`.finite`).
Needs torch; nothing here knows of backends or the registry."""
