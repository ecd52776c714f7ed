"""RL² once (Duan et al. 2016; Wang et al. 2016), for every recurrent policy: the
algorithm (given a model factory), its agents, the trial lanes and rollouts, the A2C
loss and the outer loop, and its hyperparameters declared once (:mod:`.params`).

A model plugs in by implementing :class:`~metaplastic.rl2.policy.RecurrentPolicy` (the
dense GRU of :mod:`metaplastic.dense.gru`, the spiking networks of
:mod:`metaplastic.spiking.snn_policy`). Needs torch.
"""
