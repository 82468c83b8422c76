"""One self-contained HTML page of sections: notes, tables and plotly figures.

plotly.js is inlined once in the page head (about 4.8 MB, so the file opens offline, from an
MLflow artifact view or an e-mail attachment, without a CDN); every figure is then written
with `include_plotlyjs=False`, a few kilobytes of JSON each.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

# Figures resize with the window; the mode bar offers zoom and PNG export but no cloud links.
FIGURE_CONFIG = {"responsive": True, "displaylogo": False}

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem auto; max-width: 1200px;
       color: #222; padding: 0 1rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.25rem; margin-top: 2.5rem;
     border-bottom: 1px solid #ccc; } h3 { font-size: 1.05rem; margin-top: 1.5rem; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0; }
th, td { border: 1px solid #ddd; padding: 0.2rem 0.5rem; text-align: right; }
th { background: #f4f4f4; } .note { color: #555; }
.figure { margin: 0.5rem 0 1rem; }
"""


@dataclass(frozen=True)
class Note:
    """A paragraph of plain text (escaped)."""

    text: str


@dataclass(frozen=True)
class Table:
    """A table of numbers; floats are shown with four significant digits."""

    frame: pd.DataFrame
    index: bool = False


Block = Note | Table | go.Figure


@dataclass
class Section:
    """A heading and its blocks; `level` 2 for a page part, 3 for a part of one."""

    title: str
    blocks: list[Block] = field(default_factory=list)
    level: int = 2


def figure_count(sections: list[Section]) -> int:
    """How many figures the page draws (what a browser check expects to see rendered)."""
    return sum(isinstance(block, go.Figure) for s in sections for block in s.blocks)


def _block_html(block: Block) -> str:
    if isinstance(block, Note):
        return f'<p class="note">{html.escape(block.text)}</p>'
    if isinstance(block, Table):
        return block.frame.to_html(
            index=block.index, na_rep="–", border=0,
            float_format=lambda v: f"{v:.4g}",
        )  # fmt: skip
    body = block.to_html(full_html=False, include_plotlyjs=False, config=FIGURE_CONFIG)
    return f'<div class="figure">{body}</div>'


def render_page(title: str, sections: list[Section]) -> str:
    """The whole page as one string."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{STYLE}</style>",
        f'<script type="text/javascript">{get_plotlyjs()}</script>',
        f"</head><body><h1>{html.escape(title)}</h1>",
    ]
    for section in sections:
        level = section.level
        parts.append(f"<h{level}>{html.escape(section.title)}</h{level}>")
        parts += [_block_html(block) for block in section.blocks]
    parts.append("</body></html>")
    return "\n".join(parts)


def write_page(path: Path, title: str, sections: list[Section]) -> Path:
    path.write_text(render_page(title, sections), encoding="utf-8")
    return path
