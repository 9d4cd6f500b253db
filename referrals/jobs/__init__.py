"""Scheduled work: idempotent sweeps run by the dedicated scheduler process."""
