"""The batched trial runtime every backend's agents run in: vector envs and the trial loop
(:mod:`.vector`), observation checks at the boundary (:mod:`.observations`), seeded
sampling (:mod:`.sampling`) and RL²'s trial-input encoding (:mod:`.encoding`). numpy
and gymnasium only."""
