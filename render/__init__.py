"""Printable official documents (issue 16): each signed XML document rendered for people, as HTML
(right to left, a Persian font, bordered tables, Persian digits, Jalali dates and a verification
block) and as PDF (WeasyPrint, which shapes Persian through Pango). The signed bytes are only read:
a rendering never changes them, and it says so, with where the signed original is.

`render_html(xml, ...)` picks the renderer by the document's kind; `render_pdf(html)` prints it."""
from __future__ import annotations

from render.document import KINDS, Rendering, document_kind, render_approved_contract, render_html
from render.pdf import render_pdf

__all__ = ["KINDS", "Rendering", "document_kind", "render_approved_contract", "render_html", "render_pdf"]
