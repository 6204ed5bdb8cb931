"""The terminal front end: ``coach chat``."""
