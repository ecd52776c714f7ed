"""What every outer loop shares, numpy only (torch-free learners use it too): the budget
(:mod:`.budget`, with the schedule horizon), progress bars (:mod:`.progress`), the outer
loop and its explicit state (:mod:`.outer`, :mod:`.state`), divergence checks
(:mod:`.divergence`), executors and the replicas their workers hold (:mod:`.executors`,
:mod:`.replicas`, :mod:`.ray_executor`) and evolution strategies (:mod:`.es`, :mod:`.es_replica`). RL²'s torch loop lives in :mod:`metaplastic.rl2`, torch models'
gradient shards in :mod:`metaplastic.nn.shards`.
"""
