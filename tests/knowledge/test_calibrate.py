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


def test_the_threshold_rejects_most_within_the_allowance_and_of_those_falsely_rejects_least():
    from knowledge.calibrate import choose_threshold
    rates_at = {0.48: (0.925, 0.015), 0.50: (0.931, 0.018), 0.52: (0.931, 0.024), 0.54: (0.940, 0.027)}
    assert choose_threshold(rates_at, 0.025) == 0.50
    assert choose_threshold(rates_at, 0.03) == 0.54
