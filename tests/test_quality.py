"""Retrieval and verification quality on all of ../shared/data's labelled faces (slow: ~3 min).

Each face photo whose person has another photo queries all the other face photos with its
largest face; photos where no face is found count as misses. The article's pipeline measured
precision@1 0.978 this way; the issue asks for at least 0.97.
"""

from __future__ import annotations

import pytest

from conftest import FACES
from facefinder.core.evaluate import embed_labelled, retrieval_metrics
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
    assert r.precision_at_1 >= 0.97
    assert r.mean_average_precision >= 0.93


def test_calibration_reproduces_the_default_threshold(labelled):
    found = labelled.found
    cal = calibrate(labelled.embeddings[found],
                    [lbl for lbl, ok in zip(labelled.labels, found) if ok])
    print(f"\nthreshold {cal.threshold}, balanced accuracy {cal.accuracy:.4f}, AUC {cal.auc:.4f}")
    assert abs(cal.threshold - DEFAULT_THRESHOLD) <= 0.05
    assert cal.accuracy >= 0.92
    assert cal.auc >= 0.97
    # the distributions the app's "how sure" uses are the ones measured here
    dist = distance_percentiles(cal)
    assert max(abs(a - b) for a, b in zip(dist["same"], SAME_DISTANCES)) < 0.03
    assert max(abs(a - b) for a, b in zip(dist["different"], DIFFERENT_DISTANCES)) < 0.03
