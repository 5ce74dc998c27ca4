"""Arranging unidentified faces so that faces alike sit together ("Who is this?", if enabled).

Only an arrangement for a person to look at: nothing here names a face, and the encodings it
reads are the ones an import computes anyway, held in memory and never stored (docs/DPIA.md
section 7a). Grouping is single-linkage: a face joins the group of its nearest earlier face
when that one is within `TOLERANCE`, else it starts a group. The largest groups come first,
and within a group faces keep the order they were given (photo by photo).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

import numpy as np

from ijs_vetting.faces.results import Encoding

K = TypeVar("K", bound=Hashable)
# dlib's own "same person" distance. Looser than the station's match threshold on purpose: a
# false neighbour costs a glance, and no decision rests on it.
TOLERANCE = 0.6


def likeness_order(faces: Sequence[tuple[K, Encoding]], tolerance: float = TOLERANCE) -> list[K]:
    """The keys of `faces`, arranged so that faces alike are next to each other."""
    if not faces:
        return []
    points = np.stack([np.asarray(encoding, dtype=np.float64) for _key, encoding in faces])
    groups: list[list[int]] = []
    group_of: list[int] = []
    for i in range(len(faces)):
        if i:
            distances = np.linalg.norm(points[:i] - points[i], axis=1)
            nearest = int(np.argmin(distances))
            if distances[nearest] <= tolerance:
                group_of.append(group_of[nearest])
                groups[group_of[nearest]].append(i)
                continue
        group_of.append(len(groups))
        groups.append([i])
    ranked = sorted(groups, key=lambda members: (-len(members), members[0]))
    return [faces[i][0] for members in ranked for i in members]
