"""Numbers over time (issue #13 §3): ``/update``, ``/stats``, ``/goal`` and the check-ins."""
