"""Test support that needs no database: the in-memory coach (:mod:`support.memory`)."""
