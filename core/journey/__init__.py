"""The musician's journey along a roadmap: onboarding, checklists, answers, skip and undo,
progress and stats views, the cards they are drawn on, and what comes next."""
