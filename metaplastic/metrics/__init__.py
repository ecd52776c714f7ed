"""Neutral measures computed from what ran: statistics with intervals (:mod:`.stats`) and
spiking activity under NeuroBench's names (:mod:`.activity`). numpy only."""
