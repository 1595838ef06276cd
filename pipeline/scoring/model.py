"""The suspicion model: a calibrated scikit-learn classifier over rendezvous features.

Why this shape:

* ``ColumnTransformer`` + ``HistGradientBoostingClassifier`` (default): boosted
  trees take the feature interactions analysts reason with ("dark *and*
  remote", "draught change *and* no port call"), handle NaN natively (a
  missing draught report is information, not an error) and train in seconds.
  ``classifier="logistic"`` swaps in an imputed, scaled logistic regression for
  a fully linear, auditable model.
* ``CalibratedClassifierCV``: the score is shown to analysts as a probability
  and compared across days, so it must be calibrated, not just rank-correct.
  Sigmoid (Platt) calibration by default: isotonic maps are step functions
  that pile events onto a few values (ties at 1.0 and at one low value,
  issue 14), while a sigmoid keeps the model's ordering and still matches
  observed rates on held-out data (``stswatch evaluate`` shows the table).
* Small trees (5 leaves, 200 rounds at 0.05): the evidence is mostly
  additive (each indicator raises the odds), and deeper trees fit the noise
  of a few hundred events (measured: PR-AUC 0.88 with 15 leaves against 0.89
  with 5 on the location-decoupled held-out set, same training data).
* ``SuspicionModel`` follows scikit-learn's estimator conventions (parameters
  only in ``__init__``, validation in ``fit``, learned attributes end in ``_``,
  ``fit`` returns ``self``), so it can be cross-validated, cloned and persisted
  with skops like any scikit-learn estimator.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

_EPS = 1e-6


def _single_thread():
    """OpenMP limited to one thread: on a few hundred events the thread start-up
    and contention cost more than they save (measured 10x slower with 2 threads
    on a busy 2-core machine), and one thread keeps results bit-for-bit stable."""
    return threadpool_limits(limits=1, user_api="openmp")


class SuspicionModel(ClassifierMixin, BaseEstimator):
    """Calibrated probability that a rendezvous is an illicit transfer.

    Parameters
    ----------
    classifier : {"hgb", "logistic"}
        Base learner inside the calibration wrapper.
    calibration : {"isotonic", "sigmoid"}
        Calibration map fitted on held-out folds (sigmoid: smooth, no piles of
        ties; isotonic: more flexible, but a step function).
    n_folds : int
        Folds of the calibration cross-validation (each fold's model is kept
        and their calibrated probabilities averaged).
    max_iter, learning_rate, max_leaf_nodes, l2_regularization : boosting knobs
        Kept small: a few hundred events cannot support deep trees.
    random_state : int
        Seeds the fold split and the boosting: same data + same seed = same model.
    version : str
        Model version string carried into every scored event (``model_version``).
    """

    _parameter_constraints: dict = {  # noqa: RUF012 - scikit-learn's convention
        "classifier": [StrOptions({"hgb", "logistic"})],
        "calibration": [StrOptions({"isotonic", "sigmoid"})],
        "n_folds": [Interval(Integral, 2, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "max_leaf_nodes": [Interval(Integral, 2, None, closed="left")],
        "l2_regularization": [Interval(Real, 0, None, closed="left")],
        "random_state": [Interval(Integral, 0, None, closed="left")],
        "version": [str],
    }

    def __init__(
        self,
        *,
        classifier: str = "hgb",
        calibration: str = "sigmoid",
        n_folds: int = 3,
        max_iter: int = 200,
        learning_rate: float = 0.05,
        max_leaf_nodes: int = 5,
        l2_regularization: float = 2.0,
        random_state: int = 0,
        version: str = "dev",
    ) -> None:
        self.classifier = classifier
        self.calibration = calibration
        self.n_folds = n_folds
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.l2_regularization = l2_regularization
        self.random_state = random_state
        self.version = version

    # ------------------------------------------------------------------ fitting

    def _base_pipeline(self, n_features: int) -> Pipeline:
        columns = list(range(n_features))
        if self.classifier == "hgb":
            transform = ColumnTransformer([("features", "passthrough", columns)])
            clf = HistGradientBoostingClassifier(
                max_iter=self.max_iter,
                learning_rate=self.learning_rate,
                max_leaf_nodes=self.max_leaf_nodes,
                l2_regularization=self.l2_regularization,
                early_stopping=False,  # no random validation split: bit-for-bit reproducible
                random_state=self.random_state,
            )
        else:
            numeric = make_pipeline(
                SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                StandardScaler(),
            )
            transform = ColumnTransformer([("features", numeric, columns)])
            clf = LogisticRegression(C=1.0, max_iter=2000)
        return Pipeline([("columns", transform), ("classifier", clf)])

    def fit(self, X, y, sample_weight=None) -> SuspicionModel:
        """Fit the calibrated classifier; remember each feature's median as the
        "typical event" baseline that reasons are measured against.

        ``sample_weight`` weighs events in both the classifier and its
        calibration (analysts' verdicts on real events count more than one
        simulated event each); None is exactly the unweighted fit.
        """
        self._validate_params()
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan", dtype=np.float64)
        self.classes_, counts = np.unique(y, return_counts=True)
        y_type = type_of_target(y, input_name="y", raise_unknown=True)
        if y_type != "binary":  # illicit or not; the wording is scikit-learn's convention
            raise ValueError(
                f"Only binary classification is supported. The type of the target is {y_type}."
            )
        n_folds = int(min(self.n_folds, counts.min())) if len(counts) > 1 else self.n_folds
        cv = StratifiedKFold(n_splits=max(n_folds, 2), shuffle=True, random_state=self.random_state)
        self.calibrated_ = CalibratedClassifierCV(
            self._base_pipeline(X.shape[1]), method=self.calibration, cv=cv
        )
        with _single_thread():
            if sample_weight is None:
                self.calibrated_.fit(X, y)
            else:
                weights = np.asarray(sample_weight, dtype=np.float64)
                with warnings.catch_warnings():
                    # the Pipeline does not declare sample_weight: it is routed to its
                    # classifier step explicitly, and to the calibration by the wrapper
                    warnings.filterwarnings("ignore", message="Since Pipeline does not appear")
                    self.calibrated_.fit(
                        X, y, sample_weight=weights, classifier__sample_weight=weights
                    )
        fold_models = [c.estimator[-1] for c in self.calibrated_.calibrated_classifiers_]
        self.n_iter_ = int(max(np.max(getattr(m, "n_iter_", 1)) for m in fold_models))
        with np.errstate(all="ignore"):
            baseline = np.nanmedian(np.where(np.isfinite(X), X, np.nan), axis=0)
        self.baseline_ = np.where(np.isfinite(baseline), baseline, 0.0)
        return self

    # ------------------------------------------------------------------ prediction

    def _check(self, X) -> np.ndarray:
        check_is_fitted(self, "calibrated_")
        return validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64)

    def predict_proba(self, X) -> np.ndarray:
        """Calibrated class probabilities (column 1 = illicit for 0/1 labels)."""
        X = self._check(X)
        with _single_thread():
            return self.calibrated_.predict_proba(X)

    def predict(self, X) -> np.ndarray:
        """Most probable class (illicit when its calibrated probability > 0.5)."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def decision_function(self, X) -> np.ndarray:
        """Uncalibrated log-odds of the positive class, averaged over the fold models.

        Calibration maps (isotonic steps) are flat in places, so feature effects
        are measured on this smooth scale instead.
        """
        X = self._check(X)
        return self._raw_log_odds(X)

    def _raw_log_odds(self, X: np.ndarray) -> np.ndarray:
        models = [c.estimator for c in self.calibrated_.calibrated_classifiers_]
        with _single_thread():
            proba = np.mean([m.predict_proba(X)[:, -1] for m in models], axis=0)
        proba = np.clip(proba, _EPS, 1 - _EPS)
        return np.log(proba / (1 - proba))

    def contributions(self, X) -> np.ndarray:
        """Per-event, per-feature change in log-odds when the feature takes its actual
        value instead of the training median (everything else unchanged).

        Positive = this feature pushes the event towards "illicit": a
        one-at-a-time ablation against a typical event, ``(n_events, n_features)``
        (:meth:`group_contributions` with one feature per group).
        """
        X = self._check(X)
        return self._ablation_effects(X, [[j] for j in range(X.shape[1])])

    def group_contributions(self, X, groups: list[list[int]]) -> np.ndarray:
        """Per-event change in log-odds when every feature of a group takes its
        training median at once (``groups``: column indices), ``(n_events, n_groups)``.

        Features of one kind of evidence are correlated (a dark partner raises
        ``n_vessels_dark`` and ``partner_gap_h`` together): ablated one at a
        time each keeps the other as a stand-in and looks weak, while the group
        as a whole may move the score most. The reasons use both. One model
        evaluation over all groups' ablated copies of the events.
        """
        return self._ablation_effects(self._check(X), groups)

    def _ablation_effects(self, X: np.ndarray, groups: list[list[int]]) -> np.ndarray:
        """Log-odds of ``X`` minus those with each group's columns at the baseline."""
        n = X.shape[0]
        base = self._raw_log_odds(X)
        stacked = np.repeat(X[np.newaxis, :, :], len(groups), axis=0)  # (g, n, m)
        for g, cols in enumerate(groups):
            stacked[g][:, cols] = self.baseline_[cols]
        ablated = self._raw_log_odds(stacked.reshape(len(groups) * n, -1)).reshape(len(groups), n)
        return (base[np.newaxis, :] - ablated).T

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.classifier_tags.multi_class = False
        return tags


def as_feature_matrix(features: pd.DataFrame, columns: list[str] | tuple[str, ...]) -> pd.DataFrame:
    """The model's input: exactly ``columns`` in order, float64 (missing columns NaN,
    infinities NaN: a feature that cannot be measured is missing, never a crash)."""
    frame = pd.DataFrame(
        {
            c: pd.to_numeric(features[c], errors="coerce") if c in features else np.nan
            for c in columns
        },
        index=features.index,
    ).astype(np.float64)
    return frame.where(np.isfinite(frame))
