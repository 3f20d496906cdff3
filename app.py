"""sendbot's web app: a chat over the indexed SEND documents, with numbered source cards, filters, feedback,
a documents tab (uploads for administrators) and the `/ask` API endpoint.

Run `python app.py` or `sendbot serve`: it listens on 127.0.0.1:7860 unless --host/--port or Gradio's
GRADIO_SERVER_NAME/GRADIO_SERVER_PORT say otherwise. The Gradio Blocks are mounted on a FastAPI app that also
serves the indexed documents at /documents/{source} (only files the index lists, nothing else) and the
administrators' sign-in and feedback download at /admin/..., behind a gate that keeps Gradio's uploads and the
administrators' events for a signed-in administrator.

This file only assembles and serves; the page is in sendbot/web (layout.py, handlers.py, render.py, static/).
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: no telemetry calls

import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import click
import gradio as gr
import uvicorn
from fastapi import FastAPI

from sendbot.core.config import Settings, load_settings
from sendbot.feedback import FeedbackStore
from sendbot.web.admin import AdminGate, admin_routes
from sendbot.web.documents import document_routes
from sendbot.web.handlers import WebHandlers
from sendbot.web.layout import TITLE, admin_events, build_blocks
from sendbot.web.options import chroma_url_option, data_dir_option, resolve_address, serve_options
from sendbot.web.theme import static_text, theme

if TYPE_CHECKING:
    from sendbot.bot import SendBot


def create_app(bot: SendBot, settings: Settings) -> FastAPI:
    """The FastAPI app: /documents/{source} for indexed files, /admin/... for administrators, and the Gradio UI and
    API at /, behind AdminGate (uploads and the administrators' events need a signed-in administrator)."""
    handlers = WebHandlers(bot, settings, FeedbackStore(settings.feedback_db))
    blocks = build_blocks(handlers)
    app = FastAPI(title=TITLE, docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(document_routes(bot))
    app.include_router(admin_routes(handlers.admin, handlers.feedback))
    app.add_middleware(AdminGate, admin=handlers.admin, admin_events=admin_events(blocks))
    app = gr.mount_gradio_app(
        app, blocks, path="/", footer_links=["api"], run_history=False, show_error=False, ssr_mode=False,
        mcp_server=False, max_file_size=int(settings.max_upload_mb * 1024 * 1024), theme=theme(),
        css=static_text("sendbot.css"), i18n=gr.I18n(en={"chatbot.like": "Helpful", "chatbot.dislike": "Not helpful"}),
    )
    # Gradio accepts only files that came from an upload as event inputs once an app has "launched"; a mounted app
    # never does, so say so: a request naming a server path is refused instead of the file copied into the cache.
    blocks.has_launched = True
    return app


class ReadyServer(uvicorn.Server):
    """uvicorn's server, calling `on_ready` once the socket is listening."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None]) -> None:
        super().__init__(config)
        self.on_ready = on_ready

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self.on_ready()


def say(message: str) -> None:
    """A start-up line on the console, shown at once."""
    print(message, flush=True)


def open_bot(settings: Settings) -> SendBot:
    """The bot over the index (ingesting the bundled corpus into an empty one), or one plain line if it can't open."""
    from index.embedder import ModelError
    from index.store import IndexDamaged
    from sendbot.bot import SendBot

    say(f"Starting sendbot: index in {settings.data_dir}")
    try:
        bot = SendBot.open(settings, progress=say)
    except (ModelError, IndexDamaged) as error:
        raise SystemExit(f"sendbot cannot start: {error}") from None
    documents = bot.documents()
    say(f"{len(documents)} documents, {sum(r.chunks for r in documents)} passages indexed.")
    if settings.admin_password:
        say("Administrator uploads are on (SENDBOT_ADMIN_PASSWORD is set).")
    return bot


def serve(settings: Settings | None = None, host: str | None = None, port: int | None = None) -> None:
    """Open the index, then serve the app until interrupted (see `resolve_address` for host and port)."""
    started = time.perf_counter()
    settings = settings or load_settings()
    host, port = resolve_address(host, port)
    if settings.server_threads:
        import torch

        torch.set_num_threads(settings.server_threads)
    app = create_app(open_bot(settings), settings)
    shown = "localhost" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown if ':' not in shown else f'[{shown}]'}:{port}/"

    def ready() -> None:
        say(f"sendbot is ready at {url} (started in {time.perf_counter() - started:.1f}s). Press Ctrl+C to stop.")

    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, timeout_graceful_shutdown=5)
    server = ReadyServer(config, ready)
    server.run()
    if not server.started:
        raise SystemExit(f"Could not start the web server on {host}:{port} (is the port already in use?).")


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@serve_options
@data_dir_option
@chroma_url_option
def main(host: str | None, port: int | None, data_dir: Path | None, chroma_url: str | None) -> None:
    """Start the SEND documents assistant web app (the same as `sendbot serve`).

    An empty index is filled from the bundled corpus first. Set SENDBOT_ADMIN_PASSWORD to let administrators
    add and remove documents from the Documents tab.
    """
    try:
        settings = load_settings(data_dir=data_dir, chroma_url=chroma_url)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    serve(settings, host, port)


if __name__ == "__main__":
    main(prog_name="python app.py")
