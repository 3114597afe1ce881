"""kagsync: keep full Kaggle competition leaderboards in a local SQLite database."""

__version__ = "0.1.0"
