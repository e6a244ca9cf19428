"""Same person or not: the distance threshold and how it is calibrated.

:data:`DEFAULT_THRESHOLD` was chosen by :func:`calibrate` on the 741 labelled face photos of the
project's test data (130 people; the largest face of each photo), maximizing balanced accuracy
over every pair: ``facefinder calibrate ../shared/data/faces`` reproduces it (see the README for
the figures). Users can recalibrate on their own labelled photos the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
