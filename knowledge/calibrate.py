"""Fit the answerability model (SearchConfig.answer_model + threshold) for an encoder.

    python -m knowledge.calibrate [--encoder st:/models/bge-small-zh-v1.5] [--features dense,gap,...]
    python -m knowledge.calibrate --chat var/nlu_intents.json     # the chat decision (knowledge/decision.py)

Runs every question of knowledge/eval/questions.yaml through a throw-away searcher, fits an
L2-regularised logistic regression (scikit-learn) of "in scope" on SearchResult.features, reports 10-fold
cross-validated out-of-scope rejection / false rejection per threshold, and prints the YAML to
paste under `encoders:` in knowledge/retrieval.yaml. Cosine scales differ between encoders, so
re-run it after switching encoder or changing the lexicons or ranking settings.

With --chat (the NLU's intents for the same questions, from scripts/nlu_intents.py) it fits the chat's
answer decision instead: retrieval relevance plus the intent as evidence, printed as `chat_decision`.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import yaml
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import PredefinedSplit
from sklearn.preprocessing import StandardScaler

from .decision import NluHint, decision_features, hint_for
from .search import load_searcher
from .search_config import SearchConfig

QUESTIONS = Path(__file__).resolve().parent / "eval" / "questions.yaml"
# the chat's tuning questions: citizens' situations, dialect and English in the words of fresh askers
CHAT_TUNING = Path(__file__).resolve().parent / "eval" / "chat_tuning.yaml"
FEATURES = ("dense", "gap", "coverage", "unknown", "detail_missing", "crosslingual", "object_missing", "place_elsewhere")


def choose_threshold(rates_at: dict[float, tuple[float, float]], allowed: float) -> float:
    """The threshold with the highest (rejection, −false rejection) among those within `allowed` false rejection."""
    within = {t: r for t, r in rates_at.items() if r[1] <= allowed}
    return max(within, key=lambda t: (within[t][0], -within[t][1], -t))


def collect(searcher, questions: list[dict], names=FEATURES) -> tuple[np.ndarray, np.ndarray]:
    rows, labels = [], []
    for item in questions:
        result = searcher.search(item["q"], k=3)
        rows.append([result.features.get(name, 0.0) for name in names])
        labels.append(1.0 if item["articles"] else 0.0)
    return np.array(rows), np.array(labels)


CHAT_FEATURES = ("relevance", "latin", "out_of_scope", "policy")  # knowledge.decision


def collect_chat(searcher, questions: list[dict], intents: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per question: logit(relevance), the share of Latin letters and the NLU's intent evidence; label = in
    scope. A question the NLU read (Chinese) also counts once as if the NLU had been silent (nlu_fallback,
    /api/answer without an intent): that row is what fits the decision without NLU evidence — otherwise
    only English questions, nearly all in scope, would have none. Returns (rows, labels, question index)."""
    rows, labels, groups = [], [], []
    for number, item in enumerate(questions):
        name, confidence = intents.get(item["q"], ["", 0.0])
        result = searcher.search(item["q"], k=3)
        hint = hint_for(result.normalized, NluHint(name, confidence))
        hints = [hint, NluHint()] if hint.intent and hint.intent != "nlu_fallback" else [hint]
        for each in hints:
            features = decision_features(result.relevance, each, result.normalized)
            rows.append([features[feature] for feature in CHAT_FEATURES])
            labels.append(1.0 if item["articles"] else 0.0)
            groups.append(number)
    return np.array(rows), np.array(labels), np.array(groups)


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1.0) -> tuple[float, np.ndarray]:
    """L2-regularised logistic regression on standardised features (the penalty l2/2·|w|² spares the bias);
    returns (bias, weights) in raw feature units."""
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(C=1.0 / l2, solver="newton-cholesky", tol=1e-12, max_iter=1000)
    model.fit(scaler.transform(x), y)
    weights = model.coef_[0] / scaler.scale_
    return float(model.intercept_[0] - np.sum(weights * scaler.mean_)), weights


def predict(bias: float, weights: np.ndarray, x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(bias + x @ weights)))


def cross_validated(x: np.ndarray, y: np.ndarray, l2: float, folds: int = 10,
                    groups: np.ndarray | None = None) -> np.ndarray:
    """Out-of-fold probabilities; fold k holds the questions whose shuffled position (seed 0) ≡ k mod folds
    (`groups`: the question of each row — a question's rows stay in one fold)."""
    groups = np.arange(len(y)) if groups is None else groups
    scores = np.zeros(len(y))
    assignment = (np.random.default_rng(0).permutation(groups.max() + 1) % folds)[groups]
    for train, test in PredefinedSplit(assignment).split():
        bias, weights = fit(x[train], y[train], l2)
        scores[test] = predict(bias, weights, x[test])
    return scores


def rates(scores: np.ndarray, y: np.ndarray, threshold: float) -> tuple[float, float]:
    """(out-of-scope rejection, in-scope false rejection) if answerable = score ≥ threshold."""
    return float(np.mean(scores[y == 0] < threshold)), float(np.mean(scores[y == 1] < threshold))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoder", default=None)
    parser.add_argument("--questions", type=Path, nargs="+", default=[QUESTIONS, CHAT_TUNING],
                        help="tuning question files (their `questions`: q, articles); never the test set")
    parser.add_argument("--features", default=",".join(FEATURES))
    parser.add_argument("--l2", type=float, default=1.0)
    parser.add_argument("--max-false-rejection", type=float, default=0.03)
    parser.add_argument("--chat", type=Path, default=None,
                        help="NLU intents per question (scripts/nlu_intents.py): fit the chat decision")
    args = parser.parse_args(argv)
    names = CHAT_FEATURES if args.chat else tuple(args.features.split(","))
    questions = [item for path in args.questions
                 for item in yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]]
    with tempfile.TemporaryDirectory(prefix="calibrate-") as tmp:
        searcher = load_searcher(Path(tmp) / "kb.sqlite", Path(tmp) / "index", encoder=args.encoder)
        searcher.config = SearchConfig.load(encoder_name=searcher.encoder.name)
        groups = None
        if args.chat:
            x, y, groups = collect_chat(searcher, questions, json.loads(args.chat.read_text(encoding="utf-8")))
        else:
            x, y = collect(searcher, questions, names)
    bias, weights = fit(x, y, args.l2)
    cv = cross_validated(x, y, args.l2, groups=groups)
    if groups is not None:  # the rates of the chat as it runs: each question's first row (with its NLU hint)
        first = np.unique(groups, return_index=True)[1]
        cv, y = cv[first], y[first]
    print(f"encoder {searcher.encoder.name}: {int(y.sum())} in scope, {int((1 - y).sum())} out of scope")
    print("threshold  CV rejection  CV false rejection")
    thresholds = [round(float(t), 2) for t in np.arange(0.30, 0.91, 0.02)]
    for threshold in thresholds:
        rejection, false_rejection = rates(cv, y, threshold)
        print(f"  {threshold:.2f}      {rejection:.3f}         {false_rejection:.3f}")
    # the best rejection within the allowed false rejection, and of those thresholds the one that falsely rejects
    # least (a higher threshold that rejects nothing more only costs in-scope questions)
    allowed = max(args.max_false_rejection, min(rates(cv, y, t)[1] for t in thresholds))
    chosen = choose_threshold({t: rates(cv, y, t) for t in thresholds}, allowed)
    if allowed > args.max_false_rejection:
        print(f"no threshold keeps the CV false rejection ≤ {args.max_false_rejection}: "
              f"{chosen:.2f}, at the lowest rate ({allowed:.3f})")
    model = {"bias": round(bias, 4), **{n: round(float(w), 4) for n, w in zip(names, weights)}}
    if args.chat:  # the chat answers at probability 0.5: fold the chosen threshold into the bias
        model["bias"] = round(bias - float(np.log(chosen / (1 - chosen))), 4)
        print(yaml.safe_dump({"chat_decision": model}, sort_keys=False, allow_unicode=True))
        return 0
    print(yaml.safe_dump({"answer_model": model, "threshold": chosen}, sort_keys=False, allow_unicode=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
