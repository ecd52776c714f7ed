"""The trial runtime every backend's agents run in: the per-agent trial loop that
evaluation, the latency benchmark and the conformance kit share (:mod:`.trials`), the
batched loop over vector envs (:mod:`.vector`), the boundary check of what an environment
hands an agent (:mod:`.observations`), seeded sampling (:mod:`.sampling`) and RL²'s
trial-input encoding (:mod:`.encoding`). numpy and gymnasium only."""
