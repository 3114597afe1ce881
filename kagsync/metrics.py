"""Which way a Kaggle evaluation metric goes: is a lower score better, or a higher one?

Kaggle's API names a competition's metric (``GetCompetition``'s ``evaluationMetric``,
e.g. "Root Mean Squared Error" or "Categorization Accuracy") but says nothing of its
direction, and leaderboards in the older file shapes carry no rank: the direction is
needed to rank them. It can only come from the metric's name -- this table -- or from
the user.

:data:`METRIC_TABLE` maps display names to ``lower_is_better`` (a README table can be
generated from it); :func:`metric_lower_is_better` looks a name up, ignoring case,
spacing and punctuation, a trailing "score"/"metric"/"coefficient", a cut-off such as
``@5`` and an abbreviation in brackets. An unknown name gives None: guessing from words
like "error" is left to the caller, who can ask the user instead.

Pure: no kagsync imports, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

__all__ = [
    "GUESSED_SOURCES",
    "METRIC_TABLE",
    "DirectionNote",
    "DirectionSource",
    "direction_origin",
    "metric_lower_is_better",
    "normalize_metric_name",
    "settle_direction",
]

# Errors, losses, distances, deviances: lower is better.
_LOWER_IS_BETTER = (
    "Root Mean Squared Error",
    "Root Mean Square Error",
    "RMSE",
    "Root Mean Squared Logarithmic Error",
    "Root Mean Squared Log Error",
    "RMSLE",
    "Mean Squared Error",
    "MSE",
    "Mean Squared Logarithmic Error",
    "Mean Squared Log Error",
    "MSLE",
    "Mean Absolute Error",
    "MAE",
    "Median Absolute Error",
    "Weighted Mean Absolute Error",
    "WMAE",
    "Mean Absolute Percentage Error",
    "MAPE",
    "Symmetric Mean Absolute Percentage Error",
    "SMAPE",
    "Mean Absolute Scaled Error",
    "MASE",
    "Weighted RMSE",
    "Weighted Root Mean Squared Error",
    "Mean Columnwise RMSE",
    "Mean Columnwise Root Mean Squared Error",
    "MCRMSE",
    "Weighted Root Mean Squared Scaled Error",
    "WRMSSE",
    "Log Loss",
    "Logarithmic Loss",
    "Binary Log Loss",
    "Multiclass Log Loss",
    "Multi Class Log Loss",
    "Multiclass Loss",
    "Weighted Log Loss",
    "Weighted Multiclass Loss",
    "Balanced Log Loss",
    "Mean Columnwise Log Loss",
    "Cross Entropy",
    "Binary Crossentropy",
    "Categorical Crossentropy",
    "Quadratic Loss",
    "Brier Score",
    "Pinball Loss",
    "Quantile Loss",
    "Weighted Pinball Loss",
    "Weighted Scaled Pinball Loss",
    "WSPL",
    "CRPS",
    "Continuous Ranked Probability Score",
    "Wasserstein",
    "Wasserstein Distance",
    "Earth Mover's Distance",
    "EMD",
    "Hamming Loss",
    "Huber Loss",
    "Mean Poisson Deviance",
    "Mean Gamma Deviance",
    "Tweedie Deviance",
    "Word Error Rate",
    "WER",
    "Character Error Rate",
    "CER",
    "Error Rate",
    "Classification Error",
    "Levenshtein Distance",
    "Mean Levenshtein Distance",
    "Edit Distance",
    "Perplexity",
    "KL Divergence",
    "Kullback-Leibler Divergence",
)

# Accuracies, overlaps, correlations, ranking and text-similarity scores: higher is better.
_HIGHER_IS_BETTER = (
    "AUC",
    "ROC AUC",
    "AUROC",
    "Area Under Receiver Operating Characteristic Curve",
    "Area Under ROC Curve",
    "Area Under the ROC Curve",
    "Partial AUC",
    "Mean Columnwise AUC",
    "Mean AUC",
    "PR AUC",
    "Area Under Precision-Recall Curve",
    "Average Precision",
    "Global Average Precision",
    "Accuracy",
    "Categorization Accuracy",
    "Classification Accuracy",
    "Balanced Accuracy",
    "Top-1 Accuracy",
    "Top-5 Accuracy",
    "F1",
    "F-Score",
    "F-Beta",
    "F2",
    "Mean F1",
    "Mean F-Score",
    "Micro F1",
    "Macro F1",
    "Weighted F1",
    "Precision",
    "Recall",
    "MAP",
    "MAP@K",
    "Mean Average Precision",
    "Mean Average Precision@K",
    "NDCG",
    "NDCG@K",
    "Normalized Discounted Cumulative Gain",
    "MRR",
    "Mean Reciprocal Rank",
    "Hit Rate",
    "Quadratic Weighted Kappa",
    "QWK",
    "Weighted Kappa",
    "Cohen's Kappa",
    "Kappa",
    "Dice",
    "Mean Dice",
    "IoU",
    "Mean IoU",
    "mIoU",
    "Intersection over Union",
    "Jaccard",
    "Jaccard Index",
    "Jaccard Similarity",
    "Mean Jaccard",
    "Spearman",
    "Spearman Correlation",
    "Spearman Rank Correlation",
    "Pearson",
    "Pearson Correlation",
    "Kendall Tau",
    "Matthews Correlation",
    "MCC",
    "R2",
    "R Squared",
    "Coefficient of Determination",
    "Gini",
    "Normalized Gini",
    "C-Index",
    "Concordance Index",
    "BLEU",
    "SacreBLEU",
    "ROUGE",
    "ROUGE-L",
    "METEOR",
    "Cosine Similarity",
    "SSIM",
    "PSNR",
    "Log Likelihood",
)

METRIC_TABLE: Mapping[str, bool] = MappingProxyType(
    {**{name: True for name in _LOWER_IS_BETTER}, **{name: False for name in _HIGHER_IS_BETTER}}
)
"""Display name of a Kaggle metric -> ``lower_is_better``, in the order above (errors and
losses first). Read-only. A name is found whatever its case, spacing or punctuation,
and with a trailing "Score", "Metric" or "Coefficient" ("F1 Score", "Dice Coefficient")."""

# Trailing words that do not change which metric is meant.
_FILLER_WORDS = ("score", "metric", "coefficient")
# "@5", "@ 10", "@K", "@0.5:0.95" -- a cut-off or threshold, not another metric.
_CUTOFF_RE = re.compile(r"@\s*(?:k|[\d.:]+)\b", re.IGNORECASE)
_BRACKETS_RE = re.compile(r"\(([^()]*)\)")


def normalize_metric_name(name: str) -> str:
    """The lookup key of a metric name: accents dropped, case folded, a cut-off written
    ``@k``, possessive 's and trailing filler words dropped, and only letters, digits
    and ``@`` kept -- so "Mean F1-Score", "mean f1 score" and "MEAN_F1" are one key."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = _CUTOFF_RE.sub("@k", text)
    text = re.sub(r"['’]s\b", "", text)
    words = re.findall(r"[a-z0-9@^]+", text)
    while len(words) > 1 and words[-1] in _FILLER_WORDS:
        words.pop()
    return "".join(words).replace("^", "")


_BY_KEY: dict[str, bool] = {normalize_metric_name(name): lower for name, lower in METRIC_TABLE.items()}


def _lookup(key: str) -> bool | None:
    if key in _BY_KEY:
        return _BY_KEY[key]
    if key.endswith("@k"):  # "IoU@0.5", "Recall@10": the metric without its cut-off
        return _BY_KEY.get(key[:-2])
    return None


def metric_lower_is_better(name: str | None) -> bool | None:
    """Whether a lower score is better for the Kaggle metric called ``name``.

    True for errors and losses ("Root Mean Squared Error", "RMSLE", "Log Loss",
    "Pinball loss"...), False for accuracies, overlaps and correlations ("AUC",
    "Categorization Accuracy", "MAP@5", "Quadratic Weighted Kappa"...), None for a name
    not in :data:`METRIC_TABLE` (or None / blank). Case, spacing and punctuation are
    ignored; "Root Mean Squared Error (RMSE)" is tried whole, then without and as the
    part in brackets.
    """
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        return None
    found = _lookup(normalize_metric_name(name))
    if found is not None:
        return found
    inside = _BRACKETS_RE.findall(name)
    outside = _BRACKETS_RE.sub(" ", name)
    for candidate in [outside, *inside]:
        if candidate.strip():
            found = _lookup(normalize_metric_name(candidate))
            if found is not None:
                return found
    return None


# -- where a competition's direction came from ------------------------------------------

DirectionSource = Literal["user", "metric", "file order", "default"]
"""Where a competition's score direction came from (``competitions.direction_source``):
the user said so; the metric's name is in :data:`METRIC_TABLE`; a board without a
rank column was in monotone score order (Kaggle's own order); nothing told, so
higher is better."""

GUESSED_SOURCES: tuple[DirectionSource, ...] = ("file order", "default")
"""The sources that are a guess: a later board may still correct them."""


@dataclass(frozen=True)
class DirectionNote:
    """A board without a rank column was ranked in a direction nobody stated.

    Reported once per competition (and again when the guess changes): ``source`` is
    ``"file order"`` (the file's scores were in monotone order, taken as Kaggle's
    leaderboard order) or ``"default"`` (nothing told: higher is better).
    """

    source: DirectionSource
    lower_is_better: bool


def direction_origin(stored: str | None, *, user_set: bool, metric: str | None) -> DirectionSource | None:
    """Where a competition's direction comes from, or None when nothing decided it yet.

    ``stored``: ``competitions.direction_source``; ``user_set``: the user gave the
    direction (``lower_is_better`` among its user fields); ``metric``: Kaggle's
    metric name. The user wins, then a known metric, then what a board showed.
    """
    if user_set or stored == "user":
        return "user"
    if metric_lower_is_better(metric) is not None:
        return "metric"
    if stored in GUESSED_SOURCES:
        return stored
    return None


def settle_direction(
    origin: DirectionSource | None,
    stored_lower: bool,
    *,
    file_order: bool | None,
    ranked_lower: bool | None,
) -> DirectionNote | None:
    """What a board without a rank column changes in a competition's guessed direction.

    ``origin``/``stored_lower``: the competition's (see :func:`direction_origin`);
    ``file_order``: the direction the file's order showed (None: it showed none);
    ``ranked_lower``: the direction the board was ranked in (None: the board had a
    rank column, which settles nothing). Returns the new direction and its source
    when it differs from the stored one -- the caller stores it and tells the user --
    else None. A known direction (user, metric) is never changed.
    """
    if ranked_lower is None or origin in ("user", "metric"):
        return None
    if file_order is not None:
        source: DirectionSource = "file order"
    else:
        # An earlier board's order still stands when this one shows none.
        source = "file order" if origin == "file order" else "default"
    if (origin, stored_lower) == (source, ranked_lower):
        return None
    return DirectionNote(source, ranked_lower)
