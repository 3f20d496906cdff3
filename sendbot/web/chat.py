"""The conversation as the page shows it: each question as a heading with its answer under it, rendered from the
conversation kept in the browser (a list of {"role", "content"} messages; an answer's message also carries the
question it searched with and its topic, so a follow-up can be read against it).

The conversation is plain HTML in one gr.HTML component rather than Gradio's Chatbot, so the page scrolls as one
(no box scrolling inside the page), each question is a real heading, and no accessible name holds raw HTML.
"""

from __future__ import annotations

from sendbot.web.render import esc

EMPTY = ('<p class="sb-empty">Your answers will appear here. Type a question below, or choose an example.</p>')
PENDING = "Finding the passages…"


def _question(turn: int, content: str) -> str:
    return f'<h2 class="sb-asked" id="sb-q-{turn}"><span class="sb-visually-hidden">You asked: </span>{content}</h2>'


def render_conversation(history: list[dict] | None, pending: str = "") -> str:
    """The conversation as HTML: for each exchange, the question (a heading) and the answer or note under it;
    `pending` adds a question still being answered, with a 'finding the passages' status."""
    history = list(history or [])
    if not history and not pending:
        return f'<div class="sb-conversation">{EMPTY}</div>'
    parts = ['<div class="sb-conversation">']
    for turn, message in enumerate(history):
        if message.get("role") == "user":
            parts.append(f'<section class="sb-turn" aria-labelledby="sb-q-{turn}">{_question(turn, message["content"])}')
            if turn == len(history) - 1:
                parts.append("</section>")
        else:
            parts.append(f'{message["content"]}</section>')
    if pending:
        turn = len(history)
        parts.append(f'<section class="sb-turn sb-waiting" aria-labelledby="sb-q-{turn}">{_question(turn, esc(pending))}'
                     f'<p class="sb-pending" role="status">{PENDING}</p></section>')
    parts.append("</div>")
    return "".join(parts)


def last_exchange(history: list[dict] | None) -> tuple[str, str]:
    """The question the last answer searched with and its topic ('' and '' when there is none)."""
    for message in reversed(history or []):
        if message.get("role") == "assistant" and message.get("searched"):
            return message["searched"], message.get("topic", "")
    return "", ""
