"""Classical reference policies (bandit index policies, Gittins, exact Bayes-optimal
planning, PSRL, oracles), each written once in vectorized numpy as a
:class:`~metaplastic.baselines.base.VectorPolicy` over many tasks ("lanes").

They know nothing of the registry: :mod:`metaplastic.backends.baselines` declares which
policy serves which task family under which backend name.
"""
