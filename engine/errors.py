"""Domain errors raised by the engine (everything else is reported as per-position diagnostics)."""


class EngineError(Exception):
    """Base class for engine errors."""


class GrammarError(EngineError, ValueError):
    """Chat text that does not follow a grammar: one sentence naming the problem, then usage.

    ``problem`` and ``usage`` stay separate so an adapter can lay them out its own way.
    """

    def __init__(self, problem: str, *, usage: str) -> None:
        super().__init__(f"{problem}\nUsage: {usage}")
        self.problem = problem
        self.usage = usage
