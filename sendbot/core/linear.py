"""Small learned models as plain data: named features, weights and a bias, kept as JSON files in the repository.

The sentence ranker and the refusal classifier are logistic regressions trained by `sendbot eval --train` on the
golden set's dev split. Storing them as JSON (not pickles) keeps them readable, diffable and safe to load.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np


class ModelFileError(ValueError):
    """A model file is missing, damaged, or does not match the features the code computes."""


@dataclass(frozen=True)
class LinearModel:
    """A logistic model: P(yes) = sigmoid(features . weights + bias)."""

    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float
    trained_on: str = ""  # what it was fitted on, for people reading the file

    def logit(self, values: np.ndarray) -> np.ndarray:
        """The log-odds for one row of features, or for each row of a matrix."""
        return values @ np.asarray(self.weights) + self.bias

    def probability(self, values: np.ndarray) -> np.ndarray:
        """P(yes) for one row of features, or for each row of a matrix."""
        return 1.0 / (1.0 + np.exp(-self.logit(values)))

    def save(self, path: Path) -> None:
        """Write the model as indented JSON, weights rounded so that retraining gives the same file."""
        data = asdict(self)
        data["weights"] = [round(w, 6) for w in self.weights]
        data["bias"] = round(self.bias, 6)
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path, features: tuple[str, ...]) -> "LinearModel":
        """Read a model and check it was trained on exactly these features, in this order."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            model = cls(tuple(data["features"]), tuple(float(w) for w in data["weights"]), float(data["bias"]),
                        data.get("trained_on", ""))
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ModelFileError(f"{path} cannot be read ({error}); run `sendbot eval --train` to rebuild it") from None
        if model.features != features or len(model.weights) != len(features) or not all(map(math.isfinite, model.weights)):
            raise ModelFileError(f"{path} was trained on other features; run `sendbot eval --train` to rebuild it")
        return model
