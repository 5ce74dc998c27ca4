"""Rendering scanned forms for the screen: PDF pages (pypdfium2) or the scanned image itself."""

from __future__ import annotations

import numpy as np
import pypdfium2 as pdfium
from numpy.typing import NDArray

from ijs_vetting.imaging.decode import decode_image

MAX_PAGES = 20  # a permission form is a page or two; a huge PDF is not a form


def render_document(data: bytes, media_type: str, max_side: int = 1400) -> list[NDArray[np.uint8]]:
    """Each page as upright RGB pixels, the longest side at most `max_side`."""
    if media_type != "application/pdf":
        return [decode_image(data, max_side=max_side).pixels]
    pdf = pdfium.PdfDocument(data)
    try:
        pages = []
        for index in range(min(len(pdf), MAX_PAGES)):
            page = pdf[index]
            width, height = page.get_size()
            scale = max_side / max(width, height)
            bitmap = page.render(scale=scale, rev_byteorder=True)  # RGB(A), not pdfium's BGR
            pages.append(np.ascontiguousarray(bitmap.to_numpy()[:, :, :3]))
        return pages
    finally:
        pdf.close()
