"""Torch building blocks shared by every torch model and outer loop (dense, spiking, RL²,
MAML): action heads, advantage estimation, and the operation counts of torch layers.
Needs torch; nothing here knows of backends or the registry."""
