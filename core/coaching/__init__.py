"""Coaching: the plan from the release date, numbers over time and goals (issue #13)."""
