"""Bands: a server chat's shared profile, its members, managers, credits and reminder."""
