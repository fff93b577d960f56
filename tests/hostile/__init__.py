"""Hostile-input tests: what an attacker or a broken peer does must not stall the platform."""
