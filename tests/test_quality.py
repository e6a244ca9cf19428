"""Retrieval, verification and the list verdict on all of ../shared/data's labelled faces (slow).

Each face photo whose person has another photo queries all the other face photos with its main
face (the one a query uses); photos where no face is found count as misses. The article's
pipeline measured precision@1 0.978 and mAP 0.946 this way; the default pipeline (a margin of 25%
of the box, the most prominent face) measures 0.995 and 0.983 (README, "Quality"; the issue asks
for at least 0.985 and 0.97).
"""

from __future__ import annotations

import pytest

from helpers import FACES
from facefinder.core.evaluate import embed_labelled, list_badges, retrieval_metrics
from facefinder.core.verify import (DEFAULT_THRESHOLD, DIFFERENT_DISTANCES, SAME_DISTANCES,
                                     calibrate, distance_percentiles)


@pytest.fixture(scope="module")
def labelled(engine):
    return embed_labelled(engine, FACES)


def test_precision_at_1_on_the_shared_faces(labelled):
    r = retrieval_metrics(labelled)
    print(f"\nprecision@1 {r.precision_at_1:.4f}, mAP {r.mean_average_precision:.4f}, "
          f"{r.queries} queries, {r.no_face} photos without a face")
    assert r.queries >= 700
    assert r.precision_at_1 >= 0.985
    assert r.mean_average_precision >= 0.97


def test_calibration_reproduces_the_shipped_figures(labelled):
    found = labelled.found
    cal = calibrate(labelled.embeddings[found],
                    [lbl for lbl, ok in zip(labelled.labels, found) if ok])
    print(f"\nthreshold {cal.threshold}, balanced accuracy {cal.accuracy:.4f}, AUC {cal.auc:.4f}")
    assert abs(cal.threshold - DEFAULT_THRESHOLD) <= 0.03
    assert cal.accuracy >= 0.96
    assert cal.auc >= 0.99
    # the distributions the compare dialog's wording uses are the ones measured here
    dist = distance_percentiles(cal)
    assert max(abs(a - b) for a, b in zip(dist["same"], SAME_DISTANCES)) < 0.03
    assert max(abs(a - b) for a, b in zip(dist["different"], DIFFERENT_DISTANCES)) < 0.03


def test_the_badge_in_result_lists(labelled):
    """Each photo searching the others (one face per photo): the "same person" badge's
    precision and the share of true matches in the top 20 that carry it."""
    b = list_badges(labelled)
    print(f"\nbadge precision {b.precision:.3f}, recall {b.recall:.3f} ({b.badges} badges), "
          f"'possibly' precision {b.possible_precision:.3f}")
    assert b.queries >= 700
    assert b.precision >= 0.9 and b.recall >= 0.85
