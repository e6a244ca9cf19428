"""Same person or not: the distance threshold and how it is calibrated.

:data:`DEFAULT_THRESHOLD` was chosen by :func:`calibrate` on the 741 labelled face photos of the
project's test data (130 people; the largest face of each photo), maximizing balanced accuracy
over every pair: ``facefinder calibrate ../shared/data/faces`` reproduces it (see the README for
the figures). Users can recalibrate on their own labelled photos the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

DEFAULT_THRESHOLD = 1.2
"""Euclidean distance between unit embeddings below which two faces are called the same person."""


@dataclass
class Calibration:
    threshold: float
    accuracy: float  # balanced: mean of same-pair and different-pair accuracy
    same_pairs: int
    different_pairs: int
    auc: float
    roc: list[tuple[float, float, float]] = field(default_factory=list)  # (threshold, TPR, FPR)
    same_distances: np.ndarray | None = None
    different_distances: np.ndarray | None = None


def pair_distances(embeddings: np.ndarray, labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Distances of all same-label pairs and all different-label pairs (i < j)."""
    emb = np.asarray(embeddings, np.float32)
    labels_arr = np.asarray(labels)
    d2 = np.maximum(2.0 - 2.0 * emb @ emb.T, 0.0)
    dist = np.sqrt(d2)
    iu = np.triu_indices(len(emb), k=1)
    same = labels_arr[iu[0]] == labels_arr[iu[1]]
    return dist[iu][same], dist[iu][~same]


def calibrate(embeddings: np.ndarray, labels: list[str]) -> Calibration:
    """The threshold that best separates same-label from different-label pairs."""
    same, diff = pair_distances(embeddings, labels)
    if len(same) == 0 or len(diff) == 0:
        raise ValueError("calibration needs at least two people, one of them with two photos")
    candidates = np.arange(0.40, 1.60001, 0.01)
    tpr = np.array([(same < t).mean() for t in candidates])
    fpr = np.array([(diff < t).mean() for t in candidates])
    balanced = (tpr + (1 - fpr)) / 2
    best = int(np.argmax(balanced))
    # AUC by the rank statistic: P(distance of a same pair < distance of a different pair)
    allv = np.concatenate([same, diff])
    ranks = allv.argsort().argsort() + 1
    auc = 1.0 - (ranks[: len(same)].sum() - len(same) * (len(same) + 1) / 2) / (
        len(same) * len(diff))
    roc = [(round(float(t), 2), float(a), float(b))
           for t, a, b in zip(candidates[::10], tpr[::10], fpr[::10])]
    return Calibration(
        threshold=round(float(candidates[best]), 2), accuracy=float(balanced[best]),
        same_pairs=len(same), different_pairs=len(diff), auc=float(auc), roc=roc,
        same_distances=same, different_distances=diff,
    )


def same_person(distance: float, threshold: float = DEFAULT_THRESHOLD) -> bool:
    return bool(distance < threshold)


def confidence(distance: float, threshold: float = DEFAULT_THRESHOLD) -> str:
    """A plain-words certainty: how far the distance lies from the threshold."""
    margin = abs(distance - threshold)
    if margin < 0.05:
        return "uncertain"
    if margin < 0.15:
        return "likely"
    return "very likely"


# -- where a distance falls between the two distributions --------------------------------------
PERCENTILES = (1, 5, 10, 25, 50, 75, 90, 95, 99)
"""The percentiles (of pair distances) that :data:`SAME_DISTANCES` and
:data:`DIFFERENT_DISTANCES` hold."""

SAME_DISTANCES = (0.389, 0.502, 0.567, 0.670, 0.817, 1.023, 1.213, 1.294, 1.411)
"""Distances of same-person pairs at :data:`PERCENTILES`: measured by :func:`calibrate` on the
project's 741 labelled photos (740 with a face; 2,727 same-person pairs, largest face of each
photo), the data behind :data:`DEFAULT_THRESHOLD`; :func:`distance_percentiles` gives them."""

DIFFERENT_DISTANCES = (1.113, 1.221, 1.268, 1.338, 1.406, 1.469, 1.524, 1.555, 1.613)
"""Distances of different-person pairs (270,703 of them) at :data:`PERCENTILES`, same data."""


def distance_percentiles(cal: Calibration) -> dict[str, list[float]]:
    """``{"percentiles": [...], "same": [...], "different": [...]}``: the two distributions of a
    calibration summarized at :data:`PERCENTILES` (distances rounded to 0.001)."""
    if cal.same_distances is None or cal.different_distances is None:
        raise ValueError("this calibration kept no distances")
    return {
        "percentiles": list(PERCENTILES),
        "same": [round(float(v), 3) for v in np.percentile(cal.same_distances, PERCENTILES)],
        "different": [round(float(v), 3)
                      for v in np.percentile(cal.different_distances, PERCENTILES)],
    }


@dataclass
class Certainty:
    """How a distance compares with the calibration pairs.

    ``same_closer`` / ``different_closer``: the share (0..1) of same-person / different-person
    pairs closer than ``distance``; ``probability_same``: same-person density over the sum of
    both densities at ``distance`` (equal priors, the assumption behind the balanced-accuracy
    threshold; densities from the percentile summary over a +/-0.05 window); ``sure``: that
    probability for the verdict given. Shares and probabilities are clamped to 0.01..0.99: the
    stored summary (1st to 99th percentile) says nothing finer."""

    distance: float
    same: bool
    same_closer: float
    different_closer: float
    probability_same: float
    sure: float
    words: str  # "very likely", "likely" or "uncertain"


def certainty(distance: float, threshold: float = DEFAULT_THRESHOLD,
              same_distances: Sequence[float] = SAME_DISTANCES,
              different_distances: Sequence[float] = DIFFERENT_DISTANCES,
              window: float = 0.05) -> Certainty:
    """Where ``distance`` falls between the same-person and different-person distance
    distributions (by default those measured on the project's labelled photos)."""
    q = np.asarray(PERCENTILES, float) / 100.0

    def cdf(values, d: float) -> float:
        return float(np.interp(d, values, q))

    def density(values) -> float:
        return (cdf(values, distance + window) - cdf(values, distance - window)) / (2 * window)

    same = same_person(distance, threshold)
    ds, dd = density(same_distances), density(different_distances)
    p_same = ds / (ds + dd) if ds + dd > 0 else (1.0 if same else 0.0)
    p_same = min(0.99, max(0.01, p_same))
    sure = p_same if same else 1.0 - p_same
    words = "very likely" if sure >= 0.95 else "likely" if sure >= 0.75 else "uncertain"
    return Certainty(float(distance), same, cdf(same_distances, distance),
                     cdf(different_distances, distance), p_same, sure, words)
