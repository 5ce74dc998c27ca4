"""Where the fronts find a picture's file: an original or a rendering, named by its hash.

The GUI decodes thumbnails and photos in a background loader from a path; it gets that path here
rather than from the vault, so the vault stays the services' own (they alone write, seal and
check it) and a later change of where pictures live touches one function.
"""

from __future__ import annotations

from pathlib import Path

from ijs_vetting.services.core.station import Station


def picture_file(station: Station, sha256: str) -> Path:
    """The stored file of the picture `sha256` (it may be missing: the loader says so)."""
    return station.vault.path_for(sha256)
