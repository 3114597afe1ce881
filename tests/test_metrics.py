"""kagsync.metrics: the direction of Kaggle metrics from their names."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kagsync.metrics import METRIC_TABLE, metric_lower_is_better, normalize_metric_name

LOWER = [
    "Root Mean Squared Error",
    "RMSE",
    "RMSLE",
    "Root Mean Squared Logarithmic Error",
    "Mean Absolute Error",
    "MAE",
    "MSE",
    "Mean Squared Error",
    "Log Loss",
    "LogLoss",
    "log-loss",
    "Multiclass Loss",
    "Multi-class Loss",
    "Binary Crossentropy",
    "MAPE",
    "SMAPE",
    "sMAPE",
    "Mean Columnwise RMSE",
    "Weighted RMSE",
    "Quadratic Loss",
    "Pinball loss",
    "CRPS",
    "Continuous Ranked Probability Score",
    "Wasserstein",
    "Brier Score",
    "earth mover’s distance",
    "EMD",
    "Word Error Rate",
    "Root Mean Squared Error (RMSE)",
    "  root   mean_squared-ERROR ",
]
HIGHER = [
    "AUC",
    "Area Under Receiver Operating Characteristic Curve",
    "Categorization Accuracy",
    "Accuracy",
    "F1",
    "F1 Score",
    "f1-score",
    "Mean F1-Score",
    "MAP@K",
    "MAP@5",
    "map @ 10",
    "Mean Average Precision",
    "Mean Average Precision @ 5",
    "mAP@0.5:0.95",
    "Quadratic Weighted Kappa",
    "Cohen's Kappa",
    "Cohen Kappa Score",
    "Dice",
    "Dice Coefficient",
    "IoU",
    "IoU@0.5",
    "Intersection over Union",
    "Jaccard",
    "Jaccard Index",
    "Spearman",
    "Spearman Correlation Coefficient",
    "Pearson",
    "Pearson Correlation Coefficient",
    "R2",
    "R^2",
    "R²",
    "R2 Score",
    "Gini",
    "Normalized Gini Coefficient",
    "BLEU",
    "ROUGE",
    "ROUGE-L",
    "NDCG",
    "NDCG@10",
    "Recall@20",
    "C-Index",
    "Matthews Correlation Coefficient",
    "Area Under the ROC Curve (AUC)",
]


@pytest.mark.parametrize("name", LOWER)
def test_lower_is_better(name: str) -> None:
    assert metric_lower_is_better(name) is True


@pytest.mark.parametrize("name", HIGHER)
def test_higher_is_better(name: str) -> None:
    assert metric_lower_is_better(name) is False


@pytest.mark.parametrize(
    "name",
    [None, "", "   ", "Score", "Metric", "Custom metric of the host", "Index", "@5", "x" * 500, "()", "Loss"],
)
def test_unknown_is_none(name: str | None) -> None:
    assert metric_lower_is_better(name) is None


def test_table_entries_are_all_found_and_never_conflict() -> None:
    keys: dict[str, tuple[str, bool]] = {}
    for name, lower in METRIC_TABLE.items():
        assert isinstance(name, str) and isinstance(lower, bool)
        assert metric_lower_is_better(name) is lower, name
        assert metric_lower_is_better(name.upper()) is lower, name
        key = normalize_metric_name(name)
        if key in keys:
            assert keys[key][1] == lower, f"{name!r} and {keys[key][0]!r} normalise alike but disagree"
        keys[key] = (name, lower)
    assert sum(METRIC_TABLE.values()) >= 40 and sum(not v for v in METRIC_TABLE.values()) >= 40


def test_table_is_read_only_and_readme_ready() -> None:
    with pytest.raises(TypeError):
        METRIC_TABLE["New"] = True  # type: ignore[index]
    rows = [f"| {name} | {'lower' if lower else 'higher'} |" for name, lower in METRIC_TABLE.items()]
    assert rows[0] == "| Root Mean Squared Error | lower |"
    assert len(rows) == len(set(rows))


def test_normalize_metric_name() -> None:
    assert normalize_metric_name("Mean F1-Score") == normalize_metric_name("mean_f1") == "meanf1"
    assert normalize_metric_name("MAP@5") == normalize_metric_name("map @ K") == "map@k"
    assert normalize_metric_name("Cohen's Kappa") == "cohenkappa"
    assert normalize_metric_name("Score") == "score"  # a lone filler word stays


@given(st.text(max_size=80))
def test_any_text_gives_a_bool_or_none(text: str) -> None:
    assert metric_lower_is_better(text) in (True, False, None)


def test_metrics_is_pure_and_cheap() -> None:
    code = "import kagsync.metrics, sys; print(sorted(m for m in sys.modules if m.startswith('kagsync')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "['kagsync', 'kagsync.metrics']"
