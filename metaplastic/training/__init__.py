"""What every outer loop shares, numpy only (torch-free learners use it too): the budget
(:mod:`.budget`, with the schedule horizon), progress bars (:mod:`.progress`), the outer
loop and its explicit state (:mod:`.outer`, :mod:`.state`), divergence checks
(:mod:`.divergence`), executors that evaluate populations (:mod:`.executors`) and
evolution strategies (:mod:`.es`). RL²'s torch loop lives in :mod:`metaplastic.rl2`.
"""
