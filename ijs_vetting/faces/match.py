"""Match one face encoding against every enrolled person's templates, in plain numpy.

A person may have several templates (photos from different years); their distance is the best
(smallest) of them. The runner-up person's distance comes back too, because a face that is almost
as close to a second person is ambiguous and must not be treated as identified.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np
from numpy.typing import NDArray

from ijs_vetting.faces.results import Encoding

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Match(Generic[K]):
    """The closest person, their distance, and the second-closest person's distance (None when
    only one person has templates)."""

    key: K
    distance: float
    runner_up_distance: float | None

    @property
    def margin(self) -> float | None:
        """How much closer the best person is than the next; small margins mean ambiguity."""
        if self.runner_up_distance is None:
            return None
        return self.runner_up_distance - self.distance


class TemplateSet(Generic[K]):
    """All templates stacked into one matrix once, so each lookup is a single vectorised pass."""

    def __init__(self, templates: Mapping[K, NDArray[np.float64]]) -> None:
        kept = [(key, np.atleast_2d(np.asarray(t, np.float64))) for key, t in templates.items()]
        kept = [(key, t) for key, t in kept if t.shape[0] > 0]
        self._keys = [key for key, _ in kept]
        self._starts = np.cumsum([0] + [t.shape[0] for _, t in kept[:-1]], dtype=np.intp)
        self._matrix = (
            np.concatenate([t for _, t in kept]) if kept else np.empty((0, 128), np.float64)
        )

    def match(self, encoding: Encoding) -> Match[K] | None:
        """The best person for this encoding, or None when there are no templates at all."""
        if not self._keys:
            return None
        per_key = self._per_key(encoding)
        order = np.argsort(per_key, kind="stable")[:2]
        runner_up = float(per_key[order[1]]) if order.size > 1 else None
        return Match(self._keys[int(order[0])], float(per_key[order[0]]), runner_up)

    def nearest_other(self, encoding: Encoding, excluded: K) -> Match[K] | None:
        """The best person for this encoding other than `excluded` (is this face also
        someone else's?), or None when nobody else has templates."""
        if not any(key != excluded for key in self._keys):
            return None
        per_key = self._per_key(encoding)
        if excluded in self._keys:
            per_key[self._keys.index(excluded)] = np.inf
        best = int(np.argmin(per_key))
        return Match(self._keys[best], float(per_key[best]), None)

    def _per_key(self, encoding: Encoding) -> NDArray[np.float64]:
        """Each person's distance to the encoding: the best of their templates."""
        distances = np.linalg.norm(self._matrix - encoding, axis=1)
        return np.minimum.reduceat(distances, self._starts)

    def distance_to(self, key: K, encoding: Encoding) -> float | None:
        """This person's distance to the encoding (best of their templates); None without any."""
        if key not in self._keys:
            return None
        index = self._keys.index(key)
        end = self._starts[index + 1] if index + 1 < len(self._keys) else len(self._matrix)
        rows = self._matrix[self._starts[index] : end]
        return float(np.linalg.norm(rows - encoding, axis=1).min())


def best_match(encoding: Encoding, templates: Mapping[K, NDArray[np.float64]]) -> Match[K] | None:
    """One-off lookup; build a `TemplateSet` instead when matching many faces."""
    return TemplateSet(templates).match(encoding)
