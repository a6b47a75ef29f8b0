"""HTML to PDF with WeasyPrint (Pango shapes the Persian text; the fonts are the set-up's)."""
from __future__ import annotations


def render_pdf(html: str) -> bytes:
    """The PDF of a rendered page (render.render_html(...).html). Raises: nothing of ours."""
    from weasyprint import HTML  # type: ignore[import-untyped]

    return HTML(string=html).write_pdf()
