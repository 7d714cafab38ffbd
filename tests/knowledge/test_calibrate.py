import numpy as np

from knowledge.calibrate import cross_validated, fit, predict, rates


def test_logistic_fit_separates_and_reports_rates():
    rng = np.random.default_rng(1)
    inside = rng.normal([0.9, 0.5], 0.02, size=(60, 2))
    outside = rng.normal([0.85, 0.1], 0.02, size=(30, 2))
    x = np.vstack([inside, outside])
    y = np.r_[np.ones(60), np.zeros(30)]
    bias, weights = fit(x, y)
    scores = predict(bias, weights, x)
    assert rates(scores, y, 0.5) == (1.0, 0.0)
    assert rates(cross_validated(x, y, l2=1.0), y, 0.5)[0] > 0.9
