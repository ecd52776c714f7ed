"""Thin adapters, one per backend, each registered as an entry point in the group
``metaplastic.backends``. The substance lives in :mod:`metaplastic.spiking`,
:mod:`metaplastic.energy_models` and :mod:`metaplastic.symbolic`."""
