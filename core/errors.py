"""One error tree for the core, so front ends can catch ``CoachError`` and nothing broader."""


class CoachError(Exception):
    """Base of every error the core raises on purpose."""


class RoadmapContentError(CoachError):
    """Roadmap YAML failed validation; ``problems`` lists every finding with file and line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} roadmap problem(s)")
        self.problems = problems


class ConfigurationError(CoachError):
    """Settings are missing or contradictory."""


class PlatformUnreachable(CoachError):
    """A chat platform could not be reached (network, outage); trying again later may work.

    A front end's ``start()`` raises it after cleaning up, so ``coach run`` can keep trying in
    the background while its other front ends serve.
    """
