"""``/plan``: the release plan, dated from the profile's anchors, and its calendar file."""
