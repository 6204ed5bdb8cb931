"""Musician progress: task status rules, answer parsing and the stats that answers feed."""
