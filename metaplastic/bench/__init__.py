"""Measurement: operation counting, hardware energy profiles, meters, reports and plots."""
