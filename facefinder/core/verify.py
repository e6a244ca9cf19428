"""Same person or not: what a distance means, and the verdicts the front ends show.

Two questions, two answers:

- **Compare** (one pair of faces): :func:`pair_verdict`. The yes/no threshold is the one that
  best separates same-person from different-person pairs of the calibration photos (balanced
  accuracy); how sure is said as a frequency measured on those pairs ("1 in 400 pairs of
  different people are this close"), never as a probability of being right.
- **Search** (a ranked list from a library where nearly every face is someone else):
  :class:`Judge`. A fixed threshold badges more strangers the larger the library, so the badge
  asks instead how many faces of *other* people a library of this size would hold this close to
  the query: the smaller of two estimates, one from the calibration's different-person distances
  (:data:`Calibration.stranger_tail`) and one from the query's own distances to the library
  (a per-query normalisation, :func:`query_norm`). Fewer than :data:`SAME_EXPECTED`: "same
  person"; fewer than :data:`POSSIBLE_EXPECTED`: "possibly"; else nothing. Since a small
  library holds few strangers, "same person" also needs a distance that fewer than 1 in 100
  pairs of strangers reach, and "possibly" one under the pair threshold. Faces too small to
  judge (:data:`Calibration.small_face`) never get more than "possibly".

The figures are per pipeline (:mod:`facefinder.core.align`): an old library is judged with the
figures of the crop it was built with. ``facefinder evaluate`` measures them (README, "Quality").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Sequence

import numpy as np

from .align import ARTICLE, DEFAULT_PIPELINE

PERCENTILES = (1, 5, 10, 25, 50, 75, 90, 95, 99)
"""The percentiles (of pair distances) that :class:`Calibration` summaries hold."""

SAME_EXPECTED = 0.5
"""A search result is "same person" when fewer than this many faces of other people are
expected as close to the query in a library of this size."""
POSSIBLE_EXPECTED = 2.0
"""... and "possibly" under this many."""
COHORT = 2000
"""Library faces sampled for a query's own distance statistics (:func:`query_norm`)."""
PRIOR_WEIGHT = 50
"""Weight, in faces, of the calibration's stranger statistics in a query's (shrinkage: a small
library's few faces say little)."""

_NORMAL = NormalDist()


@dataclass(frozen=True)
class Calibration:
    """What distances mean for one pipeline, measured on labelled photos
    (``facefinder evaluate ../shared/data/faces``; the README gives the command and date).

    Distances are Euclidean between unit embeddings. ``threshold``: the balanced-accuracy pair
    threshold. ``same`` / ``different``: same-person and different-person pair distances at
    :data:`PERCENTILES`. ``stranger_tail``: the lower tail of different-person distances,
    ``(share, distance)`` points from 1 in 100,000 to 1 in 100 (measured); between them the
    share of strangers closer than a distance is interpolated in log space, and below the
    first point extrapolated along the first segment (a heavier tail than a normal fit, so
    huge libraries are not promised too much). ``cohort_cut``, ``cohort_mean``,
    ``cohort_sd``: a query's distances to a library are summarized over those at least
    ``cohort_cut`` (nearer ones are likely the same person) and shrunk towards this mean and
    spread of stranger distances over the cut. ``z_tail`` ``(mu, sigma)``: the lower tail of the resulting normalised scores of
    strangers, as ``stranger_tail``. ``small_face``: boxes whose shorter side is under this many
    photo pixels are too small to judge."""

    pipeline: str
    threshold: float
    same: tuple[float, ...]
    different: tuple[float, ...]
    stranger_tail: tuple[tuple[float, float], ...]
    cohort_cut: float
    cohort_mean: float
    cohort_sd: float
    z_tail: tuple[float, float]
    small_face: int
    source: str = ""

    def share_different_closer(self, distance: float) -> float:
        """The share of different-person pairs closer than ``distance`` (the tail points below
        the 1st percentile, the percentile summary above)."""
        if distance < self.different[0]:
            return min(0.01, _log_tail(distance, self.stranger_tail))
        return _interp_cdf(self.different, distance)

    def share_same_closer(self, distance: float) -> float:
        return _interp_cdf(self.same, distance)


def _log_tail(x: float, points: Sequence[tuple[float, float]]) -> float:
    """Share of pairs closer than ``x`` from ``(share, distance)`` points (shares rising):
    log-linear between them, extrapolated along the nearest segment outside."""
    shares = np.log10([p for p, _ in points])
    dists = np.asarray([d for _, d in points], float)
    if x <= dists[0]:
        i = 0
    elif x >= dists[-1]:
        i = len(dists) - 2
    else:
        i = int(np.searchsorted(dists, x)) - 1
    d0, d1 = dists[i], dists[i + 1]
    slope = (shares[i + 1] - shares[i]) / max(d1 - d0, 1e-9)
    return float(10 ** (shares[i] + slope * (x - d0)))


def _tail(x: float, params: tuple[float, float]) -> float:
    mu, sigma = params
    return _NORMAL.cdf((x - mu) / sigma)


def _interp_cdf(values: Sequence[float], x: float) -> float:
    q = np.asarray(PERCENTILES, float) / 100.0
    v = np.asarray(values, float)
    if x <= v[0]:
        return float(q[0] * max(0.0, x) / v[0]) if v[0] > 0 else 0.0
    if x >= v[-1]:
        return float(q[-1] + (1 - q[-1]) * min(1.0, (x - v[-1]) / max(2.0 - v[-1], 1e-6)))
    return float(np.interp(x, v, q))


CALIBRATIONS: dict[str, Calibration] = {
    # Measured by `facefinder evaluate ../shared/data/faces` (the "calibration" section; the
    # README gives the date): 741 labelled photos of 130 people, the labelled face of each,
    # 2,727 same-person and 270,703 different-person pairs.
    "article": Calibration(
        pipeline="article", threshold=1.195,
        same=(0.389, 0.502, 0.566, 0.669, 0.816, 1.019, 1.209, 1.293, 1.408),
        different=(1.113, 1.221, 1.268, 1.338, 1.406, 1.469, 1.524, 1.555, 1.613),
        stranger_tail=((1e-05, 0.604), (1e-4, 0.783), (1e-3, 0.945), (1e-2, 1.113)),
        cohort_cut=0.9, cohort_mean=1.3997, cohort_sd=0.1025, z_tail=(1.9532, 1.9643),
        small_face=32, source="facefinder evaluate ../shared/data/faces"),
    "rel25": Calibration(
        pipeline="rel25", threshold=1.165,
        same=(0.395, 0.485, 0.538, 0.639, 0.761, 0.907, 1.055, 1.127, 1.243),
        different=(1.117, 1.221, 1.267, 1.335, 1.403, 1.466, 1.52, 1.552, 1.61),
        stranger_tail=((1e-05, 0.567), (1e-4, 0.808), (1e-3, 0.95), (1e-2, 1.117)),
        cohort_cut=0.9, cohort_mean=1.3971, cohort_sd=0.1015, z_tail=(1.7975, 1.8961),
        small_face=32, source="facefinder evaluate ../shared/data/faces"),
}
"""The shipped figures per pipeline. ``small_face`` (32 px) is where faces shrunk from the
labelled photos start to lose: precision@1 0.984 at 32 px, 0.972 at 24, 0.938 at 20, 0.869 at 16
(README); real small faces (blurred, in the background) are worse than shrunk ones."""


def calibration(pipeline: str | None = None) -> Calibration:
    """The shipped figures of a pipeline (None: the default one)."""
    return CALIBRATIONS[pipeline or DEFAULT_PIPELINE]


DEFAULT_THRESHOLD = CALIBRATIONS[DEFAULT_PIPELINE].threshold
"""The default pipeline's pair threshold: distances under it are called the same person by
``compare`` (search results use :class:`Judge`)."""
ARTICLE_THRESHOLD = CALIBRATIONS[ARTICLE].threshold
SAME_DISTANCES = CALIBRATIONS[DEFAULT_PIPELINE].same
DIFFERENT_DISTANCES = CALIBRATIONS[DEFAULT_PIPELINE].different


# -- calibrating on labelled photos -----------------------------------------------------------
@dataclass
class PairCalibration:
    """:func:`calibrate`'s answer: the best pair threshold on some labelled photos."""

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


def balanced_threshold(same: np.ndarray, diff: np.ndarray, lo: float = 0.4, hi: float = 1.6,
                       step: float = 0.005) -> float:
    """The distance threshold (on a ``step`` grid) with the best balanced accuracy: the mean of
    the share of same-person pairs under it and the share of different-person pairs not."""
    grid = np.arange(lo, hi + step / 2, step)
    tpr = np.searchsorted(np.sort(same), grid, side="left") / max(len(same), 1)
    fpr = np.searchsorted(np.sort(diff), grid, side="left") / max(len(diff), 1)
    return round(float(grid[int(np.argmax(tpr + 1 - fpr))]), 3)


def calibrate(embeddings: np.ndarray, labels: list[str]) -> PairCalibration:
    """The threshold that best separates same-label from different-label pairs."""
    same, diff = pair_distances(embeddings, labels)
    if len(same) == 0 or len(diff) == 0:
        raise ValueError("calibration needs at least two people, one of them with two photos")
    threshold = balanced_threshold(same, diff)
    tpr_at = float((same < threshold).mean())
    fpr_at = float((diff < threshold).mean())
    # AUC by the rank statistic: P(distance of a same pair < distance of a different pair)
    allv = np.concatenate([same, diff])
    ranks = allv.argsort().argsort() + 1
    auc = 1.0 - (ranks[: len(same)].sum() - len(same) * (len(same) + 1) / 2) / (
        len(same) * len(diff))
    grid = np.arange(0.40, 1.60001, 0.1)
    roc = [(round(float(t), 2), float((same < t).mean()), float((diff < t).mean())) for t in grid]
    return PairCalibration(
        threshold=threshold, accuracy=(tpr_at + 1 - fpr_at) / 2,
        same_pairs=len(same), different_pairs=len(diff), auc=float(auc), roc=roc,
        same_distances=same, different_distances=diff,
    )


def distance_percentiles(cal: PairCalibration) -> dict[str, list[float]]:
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


TAIL_SHARES = (1e-5, 1e-4, 1e-3, 1e-2)


def tail_points(samples: np.ndarray) -> tuple[tuple[float, float], ...]:
    """``(share, distance)`` at :data:`TAIL_SHARES` of ``samples`` (the ones a sample this size
    can show: at least 2 pairs under each)."""
    samples = np.asarray(samples, float)
    ps = [p for p in TAIL_SHARES if p * len(samples) >= 2] or [0.01, 0.05]
    if len(ps) < 2:
        ps = [0.01, 0.05]
    return tuple((p, round(float(np.quantile(samples, p)), 3)) for p in ps)


def fit_tail(samples: np.ndarray, ps: Sequence[float] = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)
             ) -> tuple[float, float]:
    """``(mu, sigma)`` of the normal CDF that best matches the lower quantiles ``ps`` of
    ``samples`` (least squares in probit space): a model of the tail that extrapolates below
    what a few hundred thousand pairs can show."""
    samples = np.asarray(samples, float)
    ps = [p for p in ps if p * len(samples) >= 3] or [0.01, 0.05]
    qs = np.quantile(samples, ps)
    zs = np.array([_NORMAL.inv_cdf(p) for p in ps])
    sigma, mu = np.polyfit(zs, qs, 1)
    return round(float(mu), 4), round(float(sigma), 4)


# -- a pair: compare --------------------------------------------------------------------------
@dataclass
class PairVerdict:
    """The verdict on one pair of faces.

    ``tier``: "same" (fewer than 1 in 10,000 pairs of different people are this close),
    "possible"
    (under the pair threshold, but more strangers are) or "different". ``different_closer``: the
    share of different-person calibration pairs closer than ``distance`` (the chance that two
    strangers' faces come out this close); ``same_farther``: the share of same-person pairs
    farther apart. ``small``: one face is too small to judge (then at most "possible")."""

    distance: float
    threshold: float
    tier: str
    different_closer: float
    same_farther: float
    small: bool = False

    @property
    def same(self) -> bool:
        return self.tier == "same"

    @property
    def under_threshold(self) -> bool:
        return self.distance < self.threshold

    def one_in(self) -> int:
        """``N`` of "1 in N pairs of different people are this close" (rounded to a readable
        number; 0 for "most")."""
        return one_in(self.different_closer)

    def words(self) -> str:
        """One English sentence for the CLI (the GUI words its own, for translation)."""
        head = {"same": "Same person", "possible": "Possibly the same person",
                "different": "Different people"}[self.tier]
        text = f"{head}: {frequency_words(self.different_closer)} of different people are " \
               f"this close; {self.same_farther:.0%} of same-person pairs are farther apart."
        if self.small:
            text += " A face is too small to judge."
        return text


PAIR_SAME_RATE = 0.0001
"""A pair is "same" when fewer than this share of different-person pairs are as close."""


def pair_verdict(distance: float, pipeline: str | None = None, small: bool = False,
                 threshold: float | None = None) -> PairVerdict:
    """How a pair distance compares with the pipeline's calibration pairs (see
    :class:`PairVerdict`); ``threshold`` overrides the pipeline's pair threshold."""
    cal = calibration(pipeline)
    t = cal.threshold if threshold is None else float(threshold)
    closer = cal.share_different_closer(distance)
    if distance >= t:
        tier = "different"
    elif closer <= PAIR_SAME_RATE and not small:
        tier = "same"
    else:
        tier = "possible"
    return PairVerdict(float(distance), t, tier, closer, 1.0 - cal.share_same_closer(distance),
                       small)


def one_in(rate: float) -> int:
    """``rate`` as the ``N`` of "1 in N", rounded to 1-2 significant digits (0: at least 1 in 2)."""
    if rate >= 0.5:
        return 0
    n = 1.0 / max(rate, 1e-9)
    digits = 10 ** max(0, int(math.log10(n)) - 1)
    return int(round(n / digits) * digits)


def frequency_words(rate: float) -> str:
    """"1 in 400 pairs", "fewer than 1 in 100,000 pairs", "most pairs"."""
    if rate < 1e-5:
        return "fewer than 1 in 100,000 pairs"
    n = one_in(rate)
    return "most pairs" if n == 0 else f"1 in {n:,} pairs"


# -- a ranked list: search --------------------------------------------------------------------
def query_norm(distances: np.ndarray, cal: Calibration) -> tuple[float, float]:
    """``(mean, spread)`` of a query's distances to (a sample of) the library's faces, over
    those at least ``cal.cohort_cut`` (nearer faces are likely the person) and shrunk towards
    the calibration's stranger statistics with weight :data:`PRIOR_WEIGHT` faces."""
    a = np.asarray(distances, np.float64)
    a = a[a >= cal.cohort_cut]
    n = len(a)
    mu0, sd0 = cal.cohort_mean, cal.cohort_sd
    mu = (a.sum() + PRIOR_WEIGHT * mu0) / (n + PRIOR_WEIGHT)
    var = (((a - mu) ** 2).sum() + PRIOR_WEIGHT * (sd0 ** 2 + (mu0 - mu) ** 2)) / (
        n + PRIOR_WEIGHT)
    return float(mu), float(math.sqrt(max(var, 1e-12)))


@dataclass
class Verdict:
    """The verdict on one search result. ``tier``: "same", "possible" or "" (nothing);
    ``expected_strangers``: about how many faces of other people a library of this size holds
    this close to the query (the rule's statistic); ``small``: the result's or the query's face
    is too small to judge."""

    tier: str
    expected_strangers: float
    small: bool = False

    @property
    def same(self) -> bool:
        return self.tier == "same"


@dataclass
class Judge:
    """Everything the verdict on one query's results depends on besides each distance: the
    pipeline's calibration, the library's size in faces, the query's distance statistics
    (:func:`query_norm`; None: no per-query normalisation), whether the query face is small, and
    a fixed ``threshold`` the user chose instead of the calibrated rule (None: the rule).

    :meth:`verdict` is the one function that decides the badge: ``search --json``'s
    ``same_person``, the results grid and the people search all call it."""

    calibration: Calibration
    library_size: int
    norm: tuple[float, float] | None = None
    query_small: bool = False
    threshold: float | None = None

    def expected_strangers(self, distance: float) -> float:
        cal = self.calibration
        n = max(1, int(self.library_size))
        raw = n * cal.share_different_closer(distance)
        if self.norm is None:
            return raw
        mu, sd = self.norm
        z = (distance - mu) / sd
        return min(raw, n * _tail(z, cal.z_tail))

    def verdict(self, distance: float, face_side: float | None = None) -> Verdict:
        """The verdict on a result at ``distance`` whose face box's shorter side is
        ``face_side`` photo pixels (None: unknown, taken as large enough)."""
        small = self.query_small or (face_side is not None
                                     and face_side < self.calibration.small_face)
        expected = self.expected_strangers(distance)
        cal = self.calibration
        if self.threshold is not None:
            tier = "same" if distance < self.threshold else ""
        elif expected < SAME_EXPECTED and distance < cal.different[0]:
            tier = "same"
        elif expected < POSSIBLE_EXPECTED and distance < cal.threshold:
            # In a small library few strangers can be close, so few are expected even far
            # out: "same person" also needs a distance that fewer than 1 in 100 pairs of
            # strangers reach, "possibly" one under the pair threshold.
            tier = "possible"
        else:
            tier = ""
        if small and tier == "same":
            tier = "possible"
        return Verdict(tier, float(expected), small)


def is_small(box: Sequence[float], pipeline: str | None = None) -> bool:
    """Whether a face box ``(x, y, w, h)`` is too small to judge (see :class:`Calibration`)."""
    return min(float(box[2]), float(box[3])) < calibration(pipeline).small_face


def quality(box: Sequence[float], pipeline: str | None = None) -> str:
    """``"small"`` for a face too small to judge, else ``"ok"`` (the CLI's JSON field)."""
    return "small" if is_small(box, pipeline) else "ok"


# -- kept for callers of the former API ---------------------------------------------------------
def same_person(distance: float, threshold: float = DEFAULT_THRESHOLD) -> bool:
    """Whether a pair distance is under a fixed ``threshold``."""
    return bool(distance < threshold)
