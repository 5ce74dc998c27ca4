"""Matching an encoding against per-person templates (pure numpy, no faces needed)."""

from __future__ import annotations

import numpy as np
import pytest

from ijs_vetting.faces.match import TemplateSet, best_match


def _unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=128)
    return vector / np.linalg.norm(vector)


def test_best_person_uses_their_closest_template_and_reports_the_runner_up() -> None:
    a, b, c = _unit(1), _unit(2), _unit(3)
    probe = a + 0.01
    templates = {
        "amy": np.stack([b, a]),  # second template is the close one
        "ben": np.stack([b]),
        "cat": np.stack([c, b * 0.9]),
    }
    match = best_match(probe, templates)
    assert match is not None
    assert match.key == "amy"
    assert match.distance == pytest.approx(np.linalg.norm(probe - a))
    runner_up = min(np.linalg.norm(probe - b), np.linalg.norm(probe - b * 0.9))
    assert match.runner_up_distance == pytest.approx(runner_up)
    assert match.margin == pytest.approx(runner_up - match.distance)


def test_single_person_and_empty_sets() -> None:
    only = best_match(_unit(1), {7: _unit(1)[None, :]})
    assert only is not None and only.key == 7 and only.runner_up_distance is None
    assert only.margin is None
    assert best_match(_unit(1), {}) is None
    assert best_match(_unit(1), {1: np.empty((0, 128))}) is None


def test_template_set_is_reusable_and_agrees_with_brute_force() -> None:
    rng = np.random.default_rng(0)
    templates = {i: rng.normal(size=(int(rng.integers(1, 4)), 128)) for i in range(50)}
    index = TemplateSet(templates)
    for _ in range(20):
        probe = rng.normal(size=128)
        brute = sorted((min(np.linalg.norm(t - probe, axis=1)), k) for k, t in templates.items())
        match = index.match(probe)
        assert match is not None
        assert (match.key, match.distance) == (brute[0][1], pytest.approx(brute[0][0]))
        assert match.runner_up_distance == pytest.approx(brute[1][0])


def test_the_distance_to_one_person_is_their_closest_template() -> None:
    a, b, c = _unit(1), _unit(2), _unit(3)
    templates = TemplateSet({"amy": np.stack([b, a]), "ben": b[None, :], "cat": np.stack([c, b])})
    probe = a + 0.01
    assert templates.distance_to("amy", probe) == pytest.approx(np.linalg.norm(probe - a))
    assert templates.distance_to("ben", probe) == pytest.approx(np.linalg.norm(probe - b))
    last = min(np.linalg.norm(probe - c), np.linalg.norm(probe - b))
    assert templates.distance_to("cat", probe) == pytest.approx(last)  # the last person's rows
    assert templates.distance_to("dan", probe) is None
