"""The command-line options `python app.py` and `sendbot serve` share, defined once.

Where to listen: the --host/--port flags win, then Gradio's own GRADIO_SERVER_NAME / GRADIO_SERVER_PORT, then
127.0.0.1:7860.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Mapping, TypeVar

import click

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860

Command = TypeVar("Command", bound=Callable)


def resolve_address(host: str | None = None, port: int | None = None,
                    environ: Mapping[str, str] = os.environ) -> tuple[str, int]:
    """Flags win, then Gradio's GRADIO_SERVER_NAME / GRADIO_SERVER_PORT, then 127.0.0.1:7860.

    Raises ValueError naming the variable when GRADIO_SERVER_PORT is not a number.
    """
    host = host or environ.get("GRADIO_SERVER_NAME") or DEFAULT_HOST
    if port is None:
        raw = environ.get("GRADIO_SERVER_PORT") or ""
        try:
            port = int(raw) if raw.strip() else DEFAULT_PORT
        except ValueError:
            raise ValueError(f"GRADIO_SERVER_PORT={raw!r} is not a port number") from None
    return host, port


def _check_port(ctx: click.Context, param: click.Parameter, port: int | None) -> int | None:
    """Without --port, the port comes from GRADIO_SERVER_PORT: refuse a bad one before anything starts."""
    if port is None:
        try:
            resolve_address(None, None)
        except ValueError as error:
            raise click.BadParameter(str(error), ctx, param) from None
    return port


def serve_options(command: Command) -> Command:
    """Add --host and --port to a click command (None when not given: `app.serve` resolves them)."""
    command = click.option("--port", type=click.IntRange(1, 65535), default=None, callback=_check_port,
                           help=f"Port to listen on (default $GRADIO_SERVER_PORT or {DEFAULT_PORT}).")(command)
    return click.option("--host", default=None,
                        help=f"Address to listen on (default $GRADIO_SERVER_NAME or {DEFAULT_HOST}).")(command)


data_dir_option = click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Where the index lives (default: ./data in the project, or $SENDBOT_DATA_DIR).",
)

chroma_url_option = click.option(
    "--chroma-url", default=None, metavar="URL",
    help="Keep the passages on this `chroma run` server, e.g. http://127.0.0.1:8000, shared by every sendbot "
         "process pointed at it (default $SENDBOT_CHROMA_URL; unset: Chroma embedded in the data directory).",
)
