"""Persistence: engine/session factory, declarative base, models, migrations runner."""
