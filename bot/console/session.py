"""The console's command handler: a line of text in, a plain-text reply out.

Thin: the shared ``Conversation`` does the work; the console is one private chat whose user
is already known (the demo's seeded owner).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.chat.context import ChatContext
from bot.chat.conversation import Conversation
from engine.domain import Platform


@dataclass
class ConsoleSession:
    """One person at the prompt: their chat and the shared conversation."""

    chat_id: str
    conversation: Conversation
    #: The console identity's external id (the demo seeds "demo").
    user_id: str = "demo"
    user_name: str = "you"

    async def handle(self, text: str) -> str:
        """Answer one line; a ``UserError`` becomes its sentence, anything else a reference."""
        ctx = ChatContext(Platform.CONSOLE, self.user_id, self.user_name, self.chat_id, True)
        reply = await self.conversation.handle(ctx, text)
        charts = "".join(f"\n[chart: {image.title}, {image.name}]" for image in reply.images)
        return reply.text + charts
