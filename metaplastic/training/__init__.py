"""What every outer loop shares, numpy only (torch-free learners use it too): the budget
(:mod:`.budget`), progress bars (:mod:`.progress`), the outer loop and its explicit state
(:mod:`.outer`, :mod:`.state`), executors that evaluate populations (:mod:`.executors`)
and evolution strategies (:mod:`.es`). RL²'s torch loop lives in :mod:`metaplastic.rl2`.
"""
