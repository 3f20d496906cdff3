"""The app's look: Gradio's theme with accessible colours, and the stylesheet and script kept in static/."""

from __future__ import annotations

import functools
from pathlib import Path

import gradio as gr

STATIC_DIR = Path(__file__).with_name("static")


@functools.cache
def static_text(name: str) -> str:
    """A file from sendbot/web/static (sendbot.css, show_latest.js), read once per process."""
    return (STATIC_DIR / name).read_text(encoding="utf-8")


def theme() -> gr.themes.Base:
    """Gradio's default look with darker blues so buttons, links and small text pass WCAG AA contrast.

    The font is Gradio's bundled Source Sans Pro (served by the app, never fetched from the internet) in its regular
    and bold files: the semibold file shipped with this Gradio is a few-KB stub missing most capitals.
    """
    font = [gr.themes.LocalFont("Source Sans Pro", weights=(400, 700)), "ui-sans-serif", "system-ui", "sans-serif"]
    return gr.themes.Default(primary_hue="blue", neutral_hue="slate", font=font).set(
        button_primary_background_fill="*primary_700",
        button_primary_background_fill_hover="*primary_800",
        button_primary_text_color="white",
        button_primary_background_fill_dark="*primary_600",
        link_text_color="*primary_700",
        link_text_color_visited="*primary_800",
        link_text_color_dark="*primary_300",
        body_text_color_subdued="*neutral_600",
        input_placeholder_color="*neutral_500",
        button_cancel_background_fill="#b91c1c",
        button_cancel_background_fill_hover="#991b1b",
        button_cancel_text_color="white",
        button_cancel_background_fill_dark="#b91c1c",
    )
