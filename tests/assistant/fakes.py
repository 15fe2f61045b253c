"""A scripted Engine for tests of the logic around a model (never as proof a capability works)."""

from __future__ import annotations

from assistant.events import Done, TextDelta, Usage
from assistant.info import ModelInfo


class ScriptedEngine:
    """Replies with the given texts in turn and records every prompt it was sent."""

    info = ModelInfo("scripted", "scripted test engine", "cpu", "none", "float32", 0)

    def __init__(self, *replies: str, finish: str | list[str] = "stop"):
        self.replies = list(replies)
        # every reply's finish reason ("repetition": as if the engine cut a loop), or one per reply in turn
        self.finish = finish
        self.prompts: list[list[dict]] = []
        self.params: list = []  # each call's GenerationParams

    def stream(self, messages, params=None, cancel=None):
        self.prompts.append(list(messages))
        self.params.append(params)
        reply = self.replies.pop(0) if self.replies else ""
        for word in reply.split(" "):
            yield TextDelta(word + " ")
        finish = self.finish if isinstance(self.finish, str) else self.finish[len(self.prompts) - 1]
        yield Done(finish, Usage(10, len(reply.split())))
