"""ActiveClean (Krishnan, Wang, Wu, Franklin, Goldberg; VLDB 2016; arXiv 1601.03797) on NumPy matrices.

ActiveClean cleans a budget of records chosen for their effect on a convex-loss model and updates the model
with an importance-weighted gradient step instead of retraining, so that the model stays an unbiased
estimate of the model trained on fully cleaned data even when only part of the data is clean (a plain retrain
on dirty plus cleaned records mixes two distributions and is biased).

The algorithm works on a featurised matrix (a model's ``TrainedModel.featurize(table)``) and row positions;
the CLEAN statement maps record keys to positions and does the SQL. One iteration:

1. **Sample** (:meth:`ActiveClean.next_batch`): ``b`` draws, with replacement, from the records the detector
   flags as dirty and that are not cleaned yet (``R_dirty``, ``N = |R_dirty|``), record ``i`` with
   probability ``p_i`` proportional to the estimated norm of its *cleaned* gradient. The cleaned gradient is
   unknown before cleaning; the paper linearises it around the dirty record::

       grad(x_clean, y_clean) ~ grad(x, y) + M_x Delta_x + M_y Delta_y

   with ``M_x``, ``M_y`` the derivatives of the gradient with respect to the features and the label at the
   current parameters, and ``Delta_x``, ``Delta_y`` the average change that cleaning made so far to records of
   the same error type (zero before anything is cleaned, so the first batch is sampled by the dirty gradient
   norm). ``sampling="uniform"`` draws uniformly instead (the uniform baseline, same update).
2. **Clean** the sampled records (the caller: a repair table, a SQL expression, a function or a person).
3. **Update** (:meth:`ActiveClean.fold_in`). The paper's gradient estimate is::

       g = N/|R| * (1/b) sum_i grad(x_i_clean, y_i_clean; theta) / (N p_i)
           + |R_clean|/|R| * mean_{j in R_clean} grad(x_j, y_j; theta)  +  l2 * theta_w

   ``R_clean`` is every record the detector does not flag plus the records cleaned so far, and ``N`` the
   flagged, uncleaned records when the batch was drawn. Because each draw is weighted by ``1/(N p_i)``, the
   first term is an unbiased estimate of the gradient the dirty records will have once cleaned, so ``g`` is
   an unbiased estimate of the gradient of the objective on fully clean data (the paper's Lemma).
   ``estimate="batch"`` uses exactly that, from the newest batch alone. The default ``estimate="all"`` is the
   same estimator with a larger sample: the dirty part is estimated from *every* record cleaned so far, each
   recomputed at the current parameters from its known clean values and weighted by its probability when it
   was drawn (Des Raj's estimator for sequential sampling; see :meth:`ActiveClean.objective_weights`), so
   it stays unbiased and its variance falls with the records cleaned instead of staying that of one batch.
   Either estimate is the gradient of a weighted objective ``sum_i c_i loss_i / |R| + penalty`` (weight 1
   on the records counted as clean, importance weights on the sample). Because cleaning, not computing, is
   what costs, the default update (``steps=None``) then *minimises* that estimated objective (L-BFGS from
   the current parameters), so the model after each batch is the best one the records cleaned so far
   support; ``steps=s`` takes ``s`` gradient steps of the paper's size ``gamma_t = gamma_0 / t`` instead
   (``estimate="batch", steps=1`` is the paper's update, one step per batch).

   Sampling by the gradient norm minimises the variance of the estimate (optimal ``p_i`` is proportional to
   the norm of the cleaned gradient). By default half of each draw's probability is spread uniformly
   (defensive importance sampling, ``uniform_share``; see :meth:`ActiveClean.sampling_probabilities` for the
   measurement that motivates it); ``uniform_share=0`` is the paper's pure proportional sampling.

Convergence (the conditions the paper states, from the theory of stochastic gradient descent it builds on):
the loss is convex in the parameters with a Lipschitz-continuous gradient (smooth: logistic, squared hinge,
least squares; the hinge loss is only sub-differentiable and gets the weaker subgradient guarantee), the
gradient estimate is unbiased (the importance weights above), and the step sizes decrease with
``sum gamma_t = inf`` and ``sum gamma_t**2 < inf``. Here ``gamma_t = gamma_0 / t`` for batch ``t`` (the
paper's inverse scaling schedule), with ``gamma_0`` by default the inverse of the largest eigenvalue of the
objective's Hessian at the starting parameters on the records the detector does not flag (so the first step
does not overshoot along the steepest direction; the dirty records' values would distort it). With the L2
penalty the objective is strongly convex and the expected squared distance to the clean optimum then falls
as ``O(sigma^2 / (b T))`` after ``T`` batches of ``b`` draws, ``sigma^2`` the variance of the estimate
(which good sampling probabilities make small). ``steps=s`` keeps that schedule (``s`` steps of
``gamma_t`` per batch, each on an unbiased estimate). With ``steps=None`` the model after batch ``T`` is
the minimiser of the estimated objective, a strongly convex function (positive weights, L2 penalty) whose
value and gradient are unbiased at every parameter (sample average approximation): as the records cleaned
grow, its minimiser converges to the clean optimum at the rate of the estimate's error, ``O(sigma^2 / B)``
in squared distance after ``B`` draws in all, the same rate as the schedule's ``O(sigma^2 / (b T))``
without depending on a step size; once every flagged record is cleaned the objective is exact and the
model is the one trained on the cleaned data. The hinge loss is not smooth; L-BFGS then stops near, not
at, the minimiser.

Supported models (the paqdb families :data:`SUPPORTED_FAMILIES`): ``logistic`` (scikit-learn
``LogisticRegression`` with the L2 penalty; binary, or multinomial for more classes), ``linear_svm``
(``LinearSVC``, squared hinge or hinge, one-vs-rest for more classes, its intercept penalised as liblinear
does) and ``ridge`` (``Ridge``, least squares). The penalty is converted to the per-record objective
``mean_i w_i loss_i + l2/2 ||coef||^2``: ``LogisticRegression`` and ``LinearSVC`` minimise
``C sum_i w_i loss_i + 1/2 ||coef||^2``, so ``l2 = 1 / (C n)``; ``Ridge`` minimises
``sum_i (y_i - f_i)^2 + alpha ||coef||^2``, so with ``loss = (f - y)^2 / 2`` it is ``l2 = alpha / n``
(``n`` the rows the estimator was trained on, ``w_i`` the class weight of the record's label).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

import numpy as np

from paqdb.errors import InvalidParameterError

Loss: TypeAlias = Literal["logistic", "squared_hinge", "hinge", "squared"]
Sampling: TypeAlias = Literal["gradient", "uniform"]
Estimate: TypeAlias = Literal["all", "batch"]

SUPPORTED_FAMILIES = ("logistic", "linear_svm", "ridge")
"""The paqdb model families (:mod:`paqdb.ml.families`) whose models ActiveClean can update."""

_ESTIMATOR_FAMILY = {"LogisticRegression": "logistic", "LinearSVC": "linear_svm", "Ridge": "ridge"}

_NORM_FLOOR = 1e-3
"""Every candidate's sampling weight is at least this share of the mean estimated norm.

A record whose estimated gradient is exactly zero (a squared-hinge record beyond the margin, say) would
otherwise never be drawn, and its true cleaned gradient, which may not be zero, would drop out of the
estimate: the floor keeps every ``p_i > 0``, which unbiasedness needs."""


_MAX_ITER = 500
"""At most this many L-BFGS iterations per batch when the update minimises the estimated objective."""


def _unsupported(what: str) -> InvalidParameterError:
    return InvalidParameterError(
        f"CLEAN cannot update {what}: ActiveClean supports convex-loss linear models only",
        hint=f"use a model of one of the families {', '.join(SUPPORTED_FAMILIES)} "
        "(train one with TRAIN MODEL ... WITH (families => ['logistic']))",
    )


def _sigmoid(s: np.ndarray) -> np.ndarray:
    out = np.empty_like(s)
    positive = s >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-s[positive]))
    e = np.exp(s[~positive])
    out[~positive] = e / (1.0 + e)
    return out


def _softmax(s: np.ndarray) -> np.ndarray:
    shifted = s - s.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


@dataclass
class ConvexModel:
    """The parameters ActiveClean updates: a linear model with an L2 penalty.

    The objective is ``mean_i w_i loss_i(coef x_i + intercept, y_i) + l2/2 (||coef||^2 + c_b ||b||^2)`` with
    ``b`` the intercept and ``c_b = intercept_l2_scale`` (0 unless the estimator penalises its intercept, as
    ``LinearSVC`` does).

    Attributes:
        loss: ``logistic`` (binary: one score, sigmoid; multiclass: one score per class, softmax),
            ``squared_hinge`` / ``hinge`` (one-vs-rest with targets +1/-1), ``squared`` (``(f - y)^2 / 2``).
        coef: ``(k, d)``; ``k = 1`` for binary classification and regression, ``n_classes`` for multiclass.
        intercept: ``(k,)``.
        l2: The per-record penalty weight (see the module docstring for the conversion from ``C``/``alpha``).
        classes: Number of classes for classification, None for regression.
        intercept_l2_scale: Weight of the intercept in the penalty (``1 / intercept_scaling**2`` for
            ``LinearSVC``, whose liblinear solver penalises the intercept as one more coefficient).
        class_weight: Per-class loss weights ``(classes,)`` (``class_weight`` of the estimator), or None.
    """

    loss: Loss
    coef: np.ndarray
    intercept: np.ndarray
    l2: float
    classes: int | None
    intercept_l2_scale: float = 0.0
    class_weight: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.coef = np.atleast_2d(np.asarray(self.coef, dtype=np.float64))
        self.intercept = np.atleast_1d(np.asarray(self.intercept, dtype=np.float64)).copy()
        if self.class_weight is not None:
            self.class_weight = np.asarray(self.class_weight, dtype=np.float64)

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_estimator(cls, estimator: Any, n_train_rows: int, y: np.ndarray | None = None) -> ConvexModel:
        """The parameters and penalty of a fitted ``LogisticRegression``, ``LinearSVC`` or ``Ridge``.

        Args:
            estimator: A fitted scikit-learn estimator as paqdb builds it (:mod:`paqdb.ml.families`);
                classifiers fitted on class codes ``0 .. n_classes-1``.
            n_train_rows: Rows the estimator was trained on (converts ``C`` or ``alpha`` to ``l2``).
            y: The training labels (class codes), needed only when the estimator has
                ``class_weight='balanced'`` (the weights depend on the class counts).

        Returns:
            The model ActiveClean updates, predicting as the estimator does.

        Raises:
            InvalidParameterError: The estimator is of another kind (the message names
                :data:`SUPPORTED_FAMILIES`), uses an L1 penalty, or is not fitted.
        """
        name = type(estimator).__name__
        family = _ESTIMATOR_FAMILY.get(name)
        if family is None:
            raise _unsupported(f"a {name} model")
        if not hasattr(estimator, "coef_"):
            raise InvalidParameterError(f"the {name} model is not fitted", hint="train the model first")
        n = max(int(n_train_rows), 1)
        coef = np.asarray(estimator.coef_, dtype=np.float64)
        fit_intercept = bool(getattr(estimator, "fit_intercept", True))
        intercept = np.asarray(estimator.intercept_, dtype=np.float64) if fit_intercept else None
        if family == "ridge":
            if coef.ndim == 2 and coef.shape[0] != 1:
                raise _unsupported("a Ridge model with several targets")
            alpha = float(np.asarray(estimator.alpha).ravel()[0])
            coef = coef.reshape(1, -1)
            b = np.zeros(1) if intercept is None else intercept.reshape(1)
            return cls("squared", coef, b, alpha / n, None)
        n_classes = len(estimator.classes_)
        k = coef.shape[0]
        b = np.zeros(k) if intercept is None else intercept.reshape(k)
        weights = _class_weights(estimator, n_classes, y)
        C = float(estimator.C)
        if family == "logistic":
            l1_ratio = getattr(estimator, "l1_ratio", 0.0) or 0.0
            penalty = getattr(estimator, "penalty", "l2")
            if penalty in ("l1", "elasticnet") or (penalty != "l2" and float(l1_ratio) > 0):
                raise _unsupported("a logistic regression with an L1 penalty (not smooth)")
            unpenalised = penalty is None or penalty == "none" or not np.isfinite(C)
            l2 = 0.0 if unpenalised else 1.0 / (C * n)
            return cls("logistic", coef, b, l2, n_classes, 0.0, weights)
        if getattr(estimator, "penalty", "l2") != "l2":
            raise _unsupported("a LinearSVC with an L1 penalty (not smooth)")
        if getattr(estimator, "multi_class", "ovr") == "crammer_singer":
            raise _unsupported("a LinearSVC with multi_class='crammer_singer'")
        loss: Loss = "hinge" if estimator.loss == "hinge" else "squared_hinge"
        scale = float(getattr(estimator, "intercept_scaling", 1.0)) if fit_intercept else 1.0
        return cls(loss, coef, b, 1.0 / (C * n), n_classes, 1.0 / scale**2 if fit_intercept else 0.0, weights)

    def to_estimator(self, template: Any) -> Any:
        """A copy of the fitted estimator ``template`` that predicts with these parameters.

        ``classes_`` and every other fitted attribute stay as they are; ``coef_`` and ``intercept_`` take the
        template's own shapes (``Ridge`` keeps a 1-D ``coef_`` and a scalar intercept when it had them).
        """
        estimator = copy.deepcopy(template)
        old_coef = np.asarray(template.coef_)
        estimator.coef_ = self.coef.reshape(old_coef.shape).astype(old_coef.dtype, copy=True)
        if getattr(template, "fit_intercept", True):
            old_b = template.intercept_
            if np.ndim(old_b) == 0:
                estimator.intercept_ = (
                    type(old_b)(self.intercept[0]) if isinstance(old_b, float) else float(self.intercept[0])
                )
            else:
                estimator.intercept_ = self.intercept.reshape(np.shape(old_b)).astype(
                    np.asarray(old_b).dtype, copy=True
                )
        return estimator

    def copy(self) -> ConvexModel:
        """An independent copy."""
        return ConvexModel(
            self.loss,
            self.coef.copy(),
            self.intercept.copy(),
            self.l2,
            self.classes,
            self.intercept_l2_scale,
            None if self.class_weight is None else self.class_weight.copy(),
        )

    # ------------------------------------------------------------------ parameters as one vector

    @property
    def n_outputs(self) -> int:
        """``k``: scores per record."""
        return int(self.coef.shape[0])

    @property
    def n_features(self) -> int:
        """``d``: features per record."""
        return int(self.coef.shape[1])

    @property
    def theta(self) -> np.ndarray:
        """All parameters as one vector: ``coef`` row by row, then ``intercept`` (``k*(d+1)`` values)."""
        return np.concatenate([self.coef.ravel(), self.intercept])

    @theta.setter
    def theta(self, value: np.ndarray) -> None:
        k, d = self.coef.shape
        value = np.asarray(value, dtype=np.float64)
        self.coef = value[: k * d].reshape(k, d).copy()
        self.intercept = value[k * d :].copy()

    # ------------------------------------------------------------------ the loss and its derivatives

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Scores ``X coef^T + intercept``, shape ``(n, k)``."""
        return np.asarray(X, dtype=np.float64) @ self.coef.T + self.intercept

    def targets(self, y: np.ndarray) -> np.ndarray:
        """The label as the loss reads it, ``(n, k)``: 0/1, one-hot, +1/-1 per class, or the value."""
        y = np.asarray(y)
        if self.classes is None:
            return y.astype(np.float64).reshape(-1, 1)
        codes = y.astype(np.int64)
        k = self.n_outputs
        if k == 1:
            t = (codes == 1).astype(np.float64).reshape(-1, 1)
        else:
            t = np.zeros((len(codes), k))
            t[np.arange(len(codes)), codes] = 1.0
        if self.loss in ("squared_hinge", "hinge"):
            t = 2.0 * t - 1.0
        return t

    def sample_weights(self, y: np.ndarray) -> np.ndarray:
        """Each record's loss weight (its class weight; ones without class weights), shape ``(n,)``."""
        n = len(y)
        if self.class_weight is None or self.classes is None:
            return np.ones(n)
        return self.class_weight[np.asarray(y).astype(np.int64)]

    def losses(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Per-record weighted losses ``w_i loss_i``, shape ``(n,)`` (penalty excluded)."""
        s = self.decision_function(X)
        t = self.targets(y)
        if self.loss == "logistic" and self.n_outputs == 1:
            value = np.logaddexp(0.0, s[:, 0]) - t[:, 0] * s[:, 0]
        elif self.loss == "logistic":
            top = s.max(axis=1)
            value = top + np.log(np.exp(s - top[:, None]).sum(axis=1)) - (s * t).sum(axis=1)
        elif self.loss == "squared_hinge":
            value = (np.maximum(0.0, 1.0 - t * s) ** 2).sum(axis=1)
        elif self.loss == "hinge":
            value = np.maximum(0.0, 1.0 - t * s).sum(axis=1)
        else:
            value = 0.5 * ((s - t) ** 2).sum(axis=1)
        return self.sample_weights(y) * value

    def objective(self, X: np.ndarray, y: np.ndarray) -> float:
        """``mean_i w_i loss_i + penalty``: what the estimator minimised, divided by ``C n`` (or ``2 n``)."""
        return float(self.losses(X, y).mean() + self.penalty())

    def penalty(self) -> float:
        """``l2/2 (||coef||^2 + intercept_l2_scale ||intercept||^2)``."""
        return (
            0.5 * self.l2 * float((self.coef**2).sum() + self.intercept_l2_scale * (self.intercept**2).sum())
        )

    def penalty_gradient(self) -> np.ndarray:
        """Gradient of :meth:`penalty` in the layout of :attr:`theta`."""
        return self.l2 * np.concatenate([self.coef.ravel(), self.intercept_l2_scale * self.intercept])

    def _residual_parts(
        self, s: np.ndarray, t: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        """``r = dloss/ds`` and what its derivatives in ``s`` and ``t`` need (unweighted)."""
        if self.loss == "logistic" and self.n_outputs == 1:
            p = _sigmoid(s)
            return p - t, p * (1.0 - p), None, None
        if self.loss == "logistic":
            p = _softmax(s)
            return p - t, None, p, None
        if self.loss == "squared_hinge":
            active = (t * s < 1.0).astype(np.float64)
            return -2.0 * t * (1.0 - t * s) * active, 2.0 * active, None, active * (4.0 * t * s - 2.0)
        if self.loss == "hinge":
            active = (t * s < 1.0).astype(np.float64)
            return -t * active, np.zeros_like(s), None, -active
        return s - t, np.ones_like(s), None, None

    def residuals(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``w_i dloss_i/ds``, shape ``(n, k)``: the gradient of record ``i`` is ``r_i (x) [x_i, 1]``."""
        r = self._residual_parts(self.decision_function(X), self.targets(y))[0]
        return r * self.sample_weights(y)[:, None]

    def gradients(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Per-record loss gradients in the layout of :attr:`theta`, ``(n, k*(d+1))``, penalty excluded."""
        X = np.asarray(X, dtype=np.float64)
        r = self.residuals(X, y)
        n = X.shape[0]
        return np.concatenate([(r[:, :, None] * X[:, None, :]).reshape(n, -1), r], axis=1)

    def gradient_sum(self, X: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """``sum_i weights_i grad_i`` in the layout of :attr:`theta`, without forming each gradient."""
        X = np.asarray(X, dtype=np.float64)
        if X.shape[0] == 0:
            return np.zeros(self.theta.shape)
        r = self.residuals(X, y)
        if weights is not None:
            r = r * np.asarray(weights, dtype=np.float64)[:, None]
        return np.concatenate([(r.T @ X).ravel(), r.sum(axis=0)])

    def full_gradient(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Gradient of :meth:`objective`: the mean loss gradient plus the penalty's."""
        return self.gradient_sum(X, y) / max(len(y), 1) + self.penalty_gradient()

    def estimated_gradient_norms(
        self,
        X: np.ndarray,
        y: np.ndarray,
        delta_x: np.ndarray | None = None,
        delta_t: np.ndarray | None = None,
    ) -> np.ndarray:
        """Norms of the paper's linearised estimate of each record's cleaned gradient.

        ``grad(x, y) + M_x delta_x + M_y delta_t`` with ``M_x``, ``M_y`` the derivatives of the record's
        gradient in its features and its (encoded) label; computed in closed form per record, ``(n,)``.

        Args:
            X: ``(n, d)`` records as they are (dirty).
            y: ``(n,)`` labels as they are.
            delta_x: ``(n, d)`` expected change of each record's features (its error type's average), or None.
            delta_t: ``(n, k)`` expected change of its encoded label (:meth:`targets`), or None.
        """
        X = np.asarray(X, dtype=np.float64)
        s = self.decision_function(X)
        t = self.targets(y)
        r, ds, softmax_p, dt = self._residual_parts(s, t)
        w = self.sample_weights(y)[:, None]
        dx = np.zeros_like(X) if delta_x is None else np.asarray(delta_x, dtype=np.float64)
        dtt = np.zeros_like(t) if delta_t is None else np.asarray(delta_t, dtype=np.float64)
        v = dx @ self.coef.T  # the change of the scores, (n, k)
        if softmax_p is not None:  # multinomial: d(p - t)/ds v = p*v - p (p.v); d/dt = -1
            r_hat = r + softmax_p * v - softmax_p * (softmax_p * v).sum(axis=1, keepdims=True) - dtt
        else:
            assert ds is not None
            r_hat = r + ds * v + (-dtt if dt is None else dt * dtt)
        r, r_hat = r * w, r_hat * w
        # || r_hat (x) [x, 1] + r (x) [dx, 0] ||^2, expanded so no (n, k*d) array is formed.
        z2 = (X * X).sum(axis=1) + 1.0
        zdz = (X * dx).sum(axis=1)
        dz2 = (dx * dx).sum(axis=1)
        sq = (r_hat**2).sum(axis=1) * z2 + 2.0 * (r_hat * r).sum(axis=1) * zdz + (r**2).sum(axis=1) * dz2
        return np.sqrt(np.maximum(sq, 0.0))

    def curvature(self, X: np.ndarray, y: np.ndarray | None = None) -> float:
        """The largest eigenvalue of the objective's Hessian on ``X`` at the current parameters.

        ``H = mean_i c_i [x_i 1]^T [x_i 1] + l2``, ``c_i`` the loss's second derivative in the score at
        record ``i`` (``p(1-p)`` for the logistic loss, ``2`` inside the margin for the squared hinge, ``1``
        for least squares; without labels or for the hinge loss, its upper bound), by power iteration
        without forming ``H``. ``1 / curvature`` is the largest step that does not overshoot along the
        steepest direction.

        """
        X = np.asarray(X, dtype=np.float64)
        n = max(X.shape[0], 1)
        bound = {"logistic": 0.25 if self.n_outputs == 1 else 0.5, "squared_hinge": 2.0, "squared": 1.0}
        if y is None or self.loss == "hinge":
            c = np.full(X.shape[0], bound.get(self.loss, 1.0))
        else:
            s = self.decision_function(X)
            if self.loss == "logistic":
                p = _sigmoid(s) if self.n_outputs == 1 else _softmax(s)
                c = (p * (1.0 - p)).max(axis=1)
            elif self.loss == "squared_hinge":
                c = 2.0 * (self.targets(y) * s < 1.0).any(axis=1)
            else:
                c = np.ones(X.shape[0])
            c = c * self.sample_weights(y)
        rng = np.random.default_rng(0)
        v = rng.standard_normal(X.shape[1] + 1)
        top = 0.0
        for _ in range(100):
            u = c * (X @ v[:-1] + v[-1])
            nv = np.concatenate([X.T @ u, [u.sum()]]) / n
            new_top = float(np.linalg.norm(nv))
            if new_top == 0.0:
                break
            v = nv / new_top
            converged = abs(new_top - top) <= 1e-4 * new_top
            top = new_top
            if converged:
                break
        return top + self.l2 * max(1.0, self.intercept_l2_scale)

    # ------------------------------------------------------------------ prediction

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class codes ``0 .. classes-1`` (classification) or values (regression)."""
        s = self.decision_function(X)
        if self.classes is None:
            return s[:, 0]
        if self.n_outputs == 1:
            return (s[:, 0] > 0).astype(np.int64)
        return s.argmax(axis=1).astype(np.int64)

    def score(self, X: np.ndarray, y: np.ndarray) -> float:
        """Accuracy (classification) or R2 (regression) on ``X``, ``y``."""
        predicted = self.predict(X)
        y = np.asarray(y)
        if self.classes is not None:
            return float((predicted == y.astype(np.int64)).mean())
        y = y.astype(np.float64)
        total = float(((y - y.mean()) ** 2).sum())
        residual = float(((y - predicted) ** 2).sum())
        return 1.0 - residual / total if total > 0 else 0.0

    # ------------------------------------------------------------------ JSON

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form (floats keep every bit through :mod:`json`)."""
        return {
            "loss": self.loss,
            "coef": self.coef.tolist(),
            "intercept": self.intercept.tolist(),
            "l2": self.l2,
            "classes": self.classes,
            "intercept_l2_scale": self.intercept_l2_scale,
            "class_weight": None if self.class_weight is None else self.class_weight.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConvexModel:
        """The model :meth:`to_dict` wrote."""
        return cls(
            data["loss"],
            np.asarray(data["coef"], dtype=np.float64),
            np.asarray(data["intercept"], dtype=np.float64),
            float(data["l2"]),
            data["classes"],
            float(data.get("intercept_l2_scale", 0.0)),
            None if data.get("class_weight") is None else np.asarray(data["class_weight"]),
        )


def _class_weights(estimator: Any, n_classes: int, y: np.ndarray | None) -> np.ndarray | None:
    spec = getattr(estimator, "class_weight", None)
    if spec is None:
        return None
    if isinstance(spec, str):
        if spec != "balanced":
            raise InvalidParameterError(f"unknown class_weight {spec!r}", hint="use 'balanced' or None")
        if y is None:
            raise InvalidParameterError(
                "a model trained with class_weight='balanced' needs its training labels to be updated",
                hint="pass y (the training class codes) to ConvexModel.from_estimator",
            )
        counts = np.bincount(np.asarray(y).astype(np.int64), minlength=n_classes).astype(np.float64)
        return np.where(counts > 0, len(y) / (n_classes * np.maximum(counts, 1.0)), 1.0)
    weights = np.ones(n_classes)
    for cls_code, weight in dict(spec).items():
        weights[int(cls_code)] = float(weight)
    return weights


@dataclass
class CleanState:
    """Everything needed to continue a cleaning run later (JSON-able through :meth:`to_dict`).

    Attributes:
        iteration: Batches folded in so far (the step-size schedule's position: the next step is
            ``gamma_0 / (iteration + 1)``).
        cleaned: Positions cleaned so far, in order.
        changed: For each cleaned position, whether cleaning changed the record (trains a learned detector).
        step_size: ``gamma_0``.
        theta: The current parameters (:attr:`ConvexModel.theta`), so a restored run continues exactly.
        delta_x_sum: Per error type, the sum of the feature changes seen so far (``(types, d)``).
        delta_t_sum: Per error type, the sum of the encoded-label changes (``(types, k)``).
        delta_count: Per error type, records cleaned.
        rng: The sampler's random generator state (NumPy ``bit_generator.state``).
        pending: Positions the last :meth:`ActiveClean.next_batch` returned and that are not folded in yet.
        pending_draws: How many of the batch's draws fell on each pending position.
        pending_probability: Each pending position's sampling probability ``p_i``.
        pending_dirty: ``N``: dirty, uncleaned records when the batch was drawn.
        pending_batch: Draws in the batch (``b``).
        cleaned_batch: For each cleaned position, the 0-based batch that drew it.
        cleaned_draws: For each cleaned position, how many of its batch's draws fell on it.
        cleaned_probability: For each cleaned position, its sampling probability ``p_i`` when drawn.
        batch_draws: Per batch, the draws of the records folded in (``b_k``).
        masks_changed: Whether the detector's mask changed for an uncleaned record after the start (a learned
            detector): the estimate is then self-normalised (:meth:`ActiveClean.objective_weights`).
    """

    iteration: int = 0
    cleaned: list[int] = field(default_factory=list)
    changed: list[bool] = field(default_factory=list)
    step_size: float = 0.0
    theta: list[float] = field(default_factory=list)
    delta_x_sum: list[list[float]] = field(default_factory=list)
    delta_t_sum: list[list[float]] = field(default_factory=list)
    delta_count: list[int] = field(default_factory=list)
    rng: dict[str, Any] = field(default_factory=dict)
    pending: list[int] = field(default_factory=list)
    pending_draws: list[int] = field(default_factory=list)
    pending_probability: list[float] = field(default_factory=list)
    pending_dirty: int = 0
    pending_batch: int = 0
    cleaned_batch: list[int] = field(default_factory=list)
    cleaned_draws: list[int] = field(default_factory=list)
    cleaned_probability: list[float] = field(default_factory=list)
    batch_draws: list[int] = field(default_factory=list)
    masks_changed: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (``json.dumps`` works on it; floats round-trip exactly)."""
        return {
            "iteration": self.iteration,
            "cleaned": [int(i) for i in self.cleaned],
            "changed": [bool(c) for c in self.changed],
            "step_size": float(self.step_size),
            "theta": [float(v) for v in self.theta],
            "delta_x_sum": [[float(v) for v in row] for row in self.delta_x_sum],
            "delta_t_sum": [[float(v) for v in row] for row in self.delta_t_sum],
            "delta_count": [int(c) for c in self.delta_count],
            "rng": _jsonable(self.rng),
            "pending": [int(i) for i in self.pending],
            "pending_draws": [int(c) for c in self.pending_draws],
            "pending_probability": [float(p) for p in self.pending_probability],
            "pending_dirty": int(self.pending_dirty),
            "pending_batch": int(self.pending_batch),
            "cleaned_batch": [int(k) for k in self.cleaned_batch],
            "cleaned_draws": [int(c) for c in self.cleaned_draws],
            "cleaned_probability": [float(p) for p in self.cleaned_probability],
            "batch_draws": [int(c) for c in self.batch_draws],
            "masks_changed": bool(self.masks_changed),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CleanState:
        """The state :meth:`to_dict` wrote."""
        return cls(**{name: copy.deepcopy(data[name]) for name in cls.__dataclass_fields__ if name in data})


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


@dataclass
class BatchResult:
    """What one :meth:`ActiveClean.fold_in` did.

    Attributes:
        batch: 1-based batch number.
        cleaned: Records cleaned so far (all batches).
        positions: The positions folded in by this batch.
        changed: How many of them cleaning changed.
        step: The step size used.
        gradient_norm: Norm of the gradient estimate of the step.
    """

    batch: int
    cleaned: int
    positions: np.ndarray
    changed: int = 0
    step: float = 0.0
    gradient_norm: float = 0.0


class ActiveClean:
    """The ActiveClean loop over one featurised relation (see the module docstring for the algorithm).

    Args:
        model: The model trained on the dirty data (updated in place; also :attr:`model`).
        X: ``(n, d)`` every record as it is now (dirty ones dirty, ones cleaned earlier clean); copied.
        y: ``(n,)`` class codes ``0 .. k-1`` or float values, as they are now; copied.
        dirty: ``(n,)`` bool, the detector's mask (records flagged as possibly dirty).
        batch_size: Draws per batch (``b``); a batch holds fewer records when a record is drawn twice.
        sampling: ``gradient`` (the paper's estimator) or ``uniform`` (the baseline, same update).
        step_size: ``gamma_0``; None picks the inverse of the objective's curvature at the starting
            parameters on the records the detector does not flag (:meth:`ConvexModel.curvature`).
        uniform_share: ``epsilon``, the share of each draw's probability spread uniformly (defensive
            importance sampling): ``p_i = (1 - epsilon) * norm_i / sum(norm) + epsilon / N``. 0 is the paper's
            pure proportional sampling; see :meth:`sampling_probabilities` for why the default is 0.5.
        seed: Seeds the sampler.
        state: A :class:`CleanState` to continue from (its parameters replace ``model``'s, its cleaned
            positions count as clean whatever ``dirty`` says).
        error_types: ``(n,)`` small ints, the error type of each record (the paper estimates the change
            per type); None puts every record in one type.
        estimate: ``all`` (default) estimates the dirty records' part of the gradient from every record
            cleaned so far (:meth:`objective_weights`); ``batch`` from the newest batch alone (the paper's
            literal update).
        steps: None (default) minimises the estimated objective after each batch; a number takes that many
            gradient steps of size ``gamma_0 / t`` per batch (``estimate='batch', steps=1`` is the paper's
            one step per batch).
    """

    def __init__(
        self,
        model: ConvexModel,
        X: np.ndarray,
        y: np.ndarray,
        dirty: np.ndarray,
        *,
        batch_size: int = 50,
        sampling: Sampling = "gradient",
        step_size: float | None = None,
        seed: int = 0,
        state: CleanState | None = None,
        error_types: np.ndarray | None = None,
        uniform_share: float = 0.5,
        estimate: Estimate = "all",
        steps: int | None = None,
    ) -> None:
        self.model = model
        self.X = np.array(X, dtype=np.float64)
        self.y = np.array(y, dtype=np.float64 if model.classes is None else np.int64)
        n, d = self.X.shape
        if d != model.n_features:
            raise InvalidParameterError(
                f"the records have {d} features but the model has {model.n_features}",
                hint="featurise the records with the model's own featurizer",
            )
        if len(self.y) != n:
            raise InvalidParameterError(
                f"{n} records but {len(self.y)} labels", hint="pass one label per record"
            )
        if batch_size < 1:
            raise InvalidParameterError(
                f"batch_size must be at least 1, not {batch_size}", hint="batch_size => 50"
            )
        if sampling not in ("gradient", "uniform"):
            raise InvalidParameterError(f"unknown sampling {sampling!r}", hint="use 'gradient' or 'uniform'")
        if estimate not in ("all", "batch"):
            raise InvalidParameterError(f"unknown estimate {estimate!r}", hint="use 'all' or 'batch'")
        if steps is not None and int(steps) < 1:
            raise InvalidParameterError(
                f"steps must be at least 1 (or None: until converged), not {steps}", hint="steps => 5"
            )
        if not 0.0 <= uniform_share <= 1.0:
            raise InvalidParameterError(
                f"uniform_share must be between 0 and 1, not {uniform_share}", hint="uniform_share => 0.5"
            )
        self.batch_size = int(batch_size)
        self.uniform_share = float(uniform_share)
        self.sampling: Sampling = sampling
        self.estimate: Estimate = estimate
        self.steps = None if steps is None else int(steps)
        self.error_types = (
            np.zeros(n, dtype=np.int64) if error_types is None else np.asarray(error_types, dtype=np.int64)
        )
        n_types = int(self.error_types.max()) + 1 if n else 1
        self._cleaned_mask = np.zeros(n, dtype=bool)
        self.dirty = np.zeros(n, dtype=bool)
        self.set_dirty(dirty)
        k = model.n_outputs
        if state is None:
            rng = np.random.default_rng(seed)
            if step_size is not None:
                gamma0 = float(step_size)
            else:
                known_clean = ~self.dirty
                rows = known_clean if known_clean.any() else np.ones(n, dtype=bool)
                gamma0 = 1.0 / model.curvature(self.X[rows], self.y[rows])
            state = CleanState(
                step_size=gamma0,
                theta=model.theta.tolist(),
                delta_x_sum=np.zeros((n_types, d)).tolist(),
                delta_t_sum=np.zeros((n_types, k)).tolist(),
                delta_count=[0] * n_types,
                rng=_jsonable(dict(rng.bit_generator.state)),
            )
        else:
            if step_size is not None:
                state.step_size = float(step_size)
            if state.theta:
                model.theta = np.asarray(state.theta, dtype=np.float64)
            rng = np.random.default_rng()
            rng.bit_generator.state = state.rng
            cleaned = np.asarray(state.cleaned, dtype=np.int64)
            if cleaned.size and (cleaned.min() < 0 or cleaned.max() >= n):
                raise InvalidParameterError(
                    "the saved cleaning state names records that are not there",
                    hint="start the cleaning run again",
                )
            known = len(state.cleaned_batch)
            if (
                known > len(cleaned)
                or len(state.cleaned_draws) != known
                or len(state.cleaned_probability) != known
                or (known and max(state.cleaned_batch) >= len(state.batch_draws))
            ):
                raise InvalidParameterError(
                    "the saved cleaning state's draw records do not match its cleaned records",
                    hint="start the cleaning run again",
                )
            self._cleaned_mask[cleaned] = True
        self.state = state
        self._rng = rng
        self._delta_x = np.asarray(state.delta_x_sum, dtype=np.float64).reshape(-1, d)
        self._delta_t = np.asarray(state.delta_t_sum, dtype=np.float64).reshape(-1, k)
        self._delta_count = np.asarray(state.delta_count, dtype=np.float64)
        if self._delta_x.shape[0] < n_types:  # more error types than the state knew
            extra = n_types - self._delta_x.shape[0]
            self._delta_x = np.vstack([self._delta_x, np.zeros((extra, d))])
            self._delta_t = np.vstack([self._delta_t, np.zeros((extra, k))])
            self._delta_count = np.concatenate([self._delta_count, np.zeros(extra)])
        self.last_probabilities: np.ndarray | None = None

    # ------------------------------------------------------------------ sets

    @property
    def cleaned(self) -> np.ndarray:
        """Bool mask of the records cleaned so far."""
        return self._cleaned_mask.copy()

    @property
    def candidates(self) -> np.ndarray:
        """Positions that are flagged dirty and not cleaned yet (``R_dirty``)."""
        return np.flatnonzero(self.dirty & ~self._cleaned_mask)

    def set_dirty(self, dirty: np.ndarray) -> None:
        """Take the detector's new mask (a learned detector refitted after a batch).

        Records cleaned already stay clean whatever the mask says.
        """
        mask = np.asarray(dirty, dtype=bool)
        if mask.shape != (self.X.shape[0],):
            raise InvalidParameterError(
                f"the dirty mask has shape {mask.shape}, expected ({self.X.shape[0]},)",
                hint="pass one flag per record",
            )
        state = getattr(self, "state", None)
        if state is not None and bool(((mask != self.dirty) & ~self._cleaned_mask).any()):
            state.masks_changed = True
        self.dirty = mask.copy()

    # ------------------------------------------------------------------ sampling

    def expected_change(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``Delta_x`` and ``Delta_y`` (encoded label) for records at ``positions``: their type's averages."""
        types = self.error_types[positions]
        count = np.maximum(self._delta_count, 1.0)[:, None]
        return (self._delta_x / count)[types], (self._delta_t / count)[types]

    def sampling_probabilities(self, positions: np.ndarray | None = None) -> np.ndarray:
        """``p_i`` over ``positions`` (default :attr:`candidates`), from the estimated cleaned-gradient norms.

        ``p_i = (1 - epsilon) * e_i / sum(e) + epsilon / N`` with ``e_i`` the norm of
        :meth:`ConvexModel.estimated_gradient_norms` with the record's expected change (at least
        :data:`_NORM_FLOOR` of the mean) and ``epsilon`` = ``uniform_share``. ``sampling='uniform'`` gives
        ``1/N`` each.

        Why mix in a uniform share: the importance weight is ``1/(N p_i)``, so a record whose cleaned
        gradient is large but whose *estimate* is small gets a huge weight when drawn. The first-order
        estimate misses exactly such records (a confident logistic score hardly moves to first order however
        much cleaning changes the features), and on the benchmark's synthetic data pure proportional
        sampling made the estimate's variance about 10,000 times that of uniform sampling; with half the
        probability spread uniformly each weight is at most twice the uniform one and the variance fell
        below uniform sampling's (0.73 of it; with the true cleaned norms it would be 0.34).
        """
        positions = self.candidates if positions is None else np.asarray(positions, dtype=np.int64)
        m = len(positions)
        if m == 0:
            return np.zeros(0)
        if self.sampling == "uniform":
            return np.full(m, 1.0 / m)
        delta_x, delta_t = self.expected_change(positions)
        norms = self.model.estimated_gradient_norms(self.X[positions], self.y[positions], delta_x, delta_t)
        mean = float(norms.mean())
        if not np.isfinite(mean) or mean <= 0.0:
            return np.full(m, 1.0 / m)
        weights = np.maximum(norms, _NORM_FLOOR * mean)
        return (1.0 - self.uniform_share) * weights / weights.sum() + self.uniform_share / m

    def next_batch(self, size: int | None = None) -> np.ndarray:
        """The positions to clean next: ``size`` draws (default ``batch_size``) among :attr:`candidates`.

        Draws are with replacement, with the probabilities of :meth:`sampling_probabilities` (kept for
        :meth:`fold_in`'s importance weights); the batch is the distinct positions drawn, sorted. An empty
        array means nothing flagged is left to clean. Calling it again replaces the pending batch.
        """
        b = self.batch_size if size is None else int(size)
        if b < 1:
            raise InvalidParameterError(
                f"a batch needs at least one record, not {b}", hint="size => 1 or more"
            )
        candidates = self.candidates
        state = self.state
        if len(candidates) == 0:
            state.pending, state.pending_draws, state.pending_probability = [], [], []
            state.pending_dirty, state.pending_batch = 0, 0
            return np.zeros(0, dtype=np.int64)
        p = self.sampling_probabilities(candidates)
        self.last_probabilities = p
        draws = self._rng.choice(len(candidates), size=b, replace=True, p=p)
        state.rng = _jsonable(self._rng.bit_generator.state)
        chosen, counts = np.unique(draws, return_counts=True)
        positions = candidates[chosen]
        state.pending = positions.tolist()
        state.pending_draws = counts.tolist()
        state.pending_probability = p[chosen].tolist()
        state.pending_dirty = len(candidates)
        state.pending_batch = b
        return positions

    # ------------------------------------------------------------------ update

    def _pending_weights(self, positions: np.ndarray) -> np.ndarray:
        """Importance weights ``draws_i / (b' N p_i)`` of ``positions`` (all in the pending batch)."""
        state = self.state
        index = {p: i for i, p in enumerate(state.pending)}
        missing = [int(p) for p in positions if int(p) not in index]
        if missing:
            raise InvalidParameterError(
                f"records {missing[:5]} were not in the batch being cleaned",
                hint="fold in exactly the positions the last next_batch returned (or some of them)",
            )
        rows = np.asarray([index[int(p)] for p in positions], dtype=np.int64)
        draws = np.asarray(state.pending_draws, dtype=np.float64)[rows]
        prob = np.asarray(state.pending_probability, dtype=np.float64)[rows]
        # A partial batch is re-normalised over the draws that were cleaned (b' = their draws).
        return draws / (draws.sum() * state.pending_dirty * prob)

    def gradient_estimate(
        self, positions: np.ndarray, X_clean: np.ndarray, y_clean: np.ndarray
    ) -> np.ndarray:
        """The paper's importance-weighted gradient ``g`` from the pending batch alone, without a step.

        ``N/|R| * (1/b) sum_i grad(x_i_clean)/(N p_i) + 1/|R| sum_{R_clean} grad + penalty`` at the current
        parameters (``estimate='batch'``; the default ``'all'`` uses every cleaned record, see
        :meth:`objective_weights`).

        Args:
            positions: Positions of the pending batch (distinct).
            X_clean: ``(m, d)`` their cleaned features.
            y_clean: ``(m,)`` their cleaned labels.

        Returns:
            ``g`` in the layout of :attr:`ConvexModel.theta` (penalty included).
        """
        positions = np.asarray(positions, dtype=np.int64)
        weights = self._pending_weights(positions)
        n = self.X.shape[0]
        N = self.state.pending_dirty
        clean_set = ~self.dirty | self._cleaned_mask
        clean_set[positions] = False  # a cleaned-in-this-batch record counts once, in the sample term
        model = self.model
        sample_term = model.gradient_sum(X_clean, y_clean, weights)  # estimates mean over R_dirty
        clean_term = model.gradient_sum(self.X[clean_set], self.y[clean_set])
        return (N / n) * sample_term + clean_term / n + model.penalty_gradient()

    def objective_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """The estimated clean objective as weights on records (``estimate='all'``): positions, weights.

        The objective on fully clean data is ``1/|R| sum_{i in R} loss_i(theta) + penalty``. Records the
        detector does not flag and that are not cleaned count as clean (weight 1). The flagged records' part,
        the sum of their *cleaned* losses (or gradients) over ``F`` = the cleaned records plus those still
        flagged, is estimated from every record cleaned so far, each recomputed at the parameters at hand
        from its known clean values. Batch ``k`` was drawn from the records then dirty (``D_k``), with
        replacement, ``b_k`` draws, record ``i`` with probability ``p_i``; so::

            Z_k = sum_{j cleaned before batch k} loss_j  +  (1/b_k) sum_{draws i of batch k} loss_i / p_i

        has expectation ``sum_{F} loss`` given everything before batch ``k`` (the records cleaned before it
        are known exactly; the Horvitz-Thompson term stands for the rest, ``D_k``): Des Raj's estimator for
        sampling without replacement with varying probabilities. Their average weighted by draws,
        ``sum_k b_k Z_k / B`` (``B = sum_k b_k``), is therefore unbiased at any fixed parameters, and its
        variance falls roughly as ``1/B`` instead of ``1/b`` for the last batch alone. Written per record,
        cleaned record ``j`` (drawn ``draws_j`` times in batch ``k_j``) gets the weight::

            c_j = (draws_j / p_j + sum_{k > k_j} b_k) / B

        When nothing flagged is left uncleaned every cleaned record is known and ``c_j = 1`` (the exact
        objective). Records cleaned by a state of an earlier version without draw records get ``c_j = 1``.

        With a detector whose mask changes between batches (the learned one), each batch's sample stands for
        the records flagged when it was drawn, so the estimate is unbiased only while the mask stays fixed;
        the weights are then self-normalised to add up to ``|F|`` (cleaned plus still flagged), so the
        flagged part keeps its share of the objective.

        Returns:
            ``(positions, weights)``: every record that enters the estimate and its weight in
            ``sum_i weight_i loss_i / |R| + penalty``.
        """
        state = self.state
        exact = ~self.dirty & ~self._cleaned_mask
        cleaned = np.asarray(state.cleaned, dtype=np.int64)
        weights = np.ones(len(cleaned))
        known = len(state.cleaned_batch)
        remaining = len(self.candidates)
        if remaining and known:
            batch_draws = np.asarray(state.batch_draws, dtype=np.float64)
            total = batch_draws.sum()
            later = np.concatenate([np.cumsum(batch_draws[::-1])[::-1][1:], [0.0]])
            batch = np.asarray(state.cleaned_batch, dtype=np.int64)
            draws = np.asarray(state.cleaned_draws, dtype=np.float64)
            prob = np.asarray(state.cleaned_probability, dtype=np.float64)
            start = len(cleaned) - known  # records of a legacy state come first and stay at 1
            weights[start:] = (draws / prob + later[batch]) / total
            if state.masks_changed:
                weights *= (len(cleaned) + remaining) / weights.sum()
        rows = np.concatenate([np.flatnonzero(exact), cleaned])
        return rows, np.concatenate([np.ones(int(exact.sum())), weights])

    def estimated_gradient(self) -> np.ndarray:
        """Gradient of the estimated clean objective (:meth:`objective_weights`) at the current parameters."""
        rows, weights = self.objective_weights()
        model = self.model
        return model.gradient_sum(self.X[rows], self.y[rows], weights) / self.X.shape[0] + (
            model.penalty_gradient()
        )

    def _update(self, rows: np.ndarray, weights: np.ndarray, t: int) -> tuple[np.ndarray, float]:
        """Move the parameters on ``sum_i weights_i loss_i / n + penalty``; the first gradient and the step.

        ``steps=None`` minimises it (L-BFGS from the current parameters, to convergence); ``steps=s`` takes
        ``s`` gradient steps of the paper's size ``gamma_0 / t``.
        """
        model = self.model
        n = self.X.shape[0]
        X, y = self.X[rows], self.y[rows]

        def gradient(theta: np.ndarray) -> np.ndarray:
            model.theta = theta
            return model.gradient_sum(X, y, weights) / n + model.penalty_gradient()

        theta0 = model.theta
        g = gradient(theta0)
        if self.steps is not None:
            gamma = self.state.step_size / t
            theta = theta0 - gamma * g
            for _ in range(self.steps - 1):
                theta = theta - gamma * gradient(theta)
            model.theta = theta
            return g, gamma
        from scipy.optimize import minimize

        def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
            model.theta = theta
            value = float((weights * model.losses(X, y)).sum() / n + model.penalty())
            return value, model.gradient_sum(X, y, weights) / n + model.penalty_gradient()

        found = minimize(objective, theta0, jac=True, method="L-BFGS-B", options={"maxiter": _MAX_ITER})
        model.theta = np.asarray(found.x, dtype=np.float64)
        return g, 0.0

    def fold_in(self, positions: np.ndarray, X_clean: np.ndarray, y_clean: np.ndarray) -> BatchResult:
        """Fold the cleaned values of a batch in and update the model on the new estimate.

        Args:
            positions: The positions of the last :meth:`next_batch` (or some of them, if only those were
                cleaned; the batch's estimate is then re-normalised over the draws that were).
            X_clean: ``(m, d)`` their cleaned features, in the order of ``positions``.
            y_clean: ``(m,)`` their cleaned labels.

        Returns:
            What the batch did.

        Raises:
            InvalidParameterError: A position was not in the pending batch, or the shapes do not match.
        """
        positions = np.asarray(positions, dtype=np.int64).ravel()
        X_clean = np.asarray(X_clean, dtype=np.float64).reshape(len(positions), self.X.shape[1])
        y_clean = np.asarray(y_clean).ravel()
        if len(y_clean) != len(positions) or len(np.unique(positions)) != len(positions):
            raise InvalidParameterError(
                f"{len(positions)} positions (distinct?) but {len(y_clean)} cleaned labels",
                hint="pass each position once, with its cleaned features and label",
            )
        y_clean = y_clean.astype(self.y.dtype)
        model = self.model
        state = self.state
        if len(positions) == 0:
            return BatchResult(state.iteration, len(state.cleaned), positions)
        sample_weights = self._pending_weights(positions)  # also checks the positions are pending
        index = {p: i for i, p in enumerate(state.pending)}
        rows_in_batch = np.asarray([index[int(p)] for p in positions], dtype=np.int64)
        draws = np.asarray(state.pending_draws, dtype=np.int64)[rows_in_batch]
        prob = np.asarray(state.pending_probability, dtype=np.float64)[rows_in_batch]
        t = state.iteration + 1
        if self.estimate == "batch":  # the paper's estimate from this batch alone
            exact = ~self.dirty | self._cleaned_mask
            exact[positions] = False
            rows = np.concatenate([np.flatnonzero(exact), positions])
            weights = np.concatenate([np.ones(int(exact.sum())), state.pending_dirty * sample_weights])
        # The change estimates (per error type) and the cleaned set.
        dx = X_clean - self.X[positions]
        dt = model.targets(y_clean) - model.targets(self.y[positions])
        types = self.error_types[positions]
        np.add.at(self._delta_x, types, dx)
        np.add.at(self._delta_t, types, dt)
        np.add.at(self._delta_count, types, 1.0)
        changed = (np.abs(dx).sum(axis=1) > 0) | (y_clean != self.y[positions])
        self.X[positions] = X_clean
        self.y[positions] = y_clean
        self._cleaned_mask[positions] = True
        state.cleaned.extend(int(p) for p in positions)
        state.changed.extend(bool(c) for c in changed)
        state.cleaned_batch.extend([len(state.batch_draws)] * len(positions))
        state.cleaned_draws.extend(int(c) for c in draws)
        state.cleaned_probability.extend(float(p) for p in prob)
        state.batch_draws.append(int(draws.sum()))
        if self.estimate == "all":
            rows, weights = self.objective_weights()
        g, gamma = self._update(rows, weights, t)
        state.iteration = t
        state.theta = model.theta.tolist()
        state.delta_x_sum = self._delta_x.tolist()
        state.delta_t_sum = self._delta_t.tolist()
        state.delta_count = [int(c) for c in self._delta_count]
        state.pending, state.pending_draws, state.pending_probability = [], [], []
        state.pending_dirty, state.pending_batch = 0, 0
        return BatchResult(
            batch=t,
            cleaned=len(state.cleaned),
            positions=positions,
            changed=int(changed.sum()),
            step=gamma,
            gradient_norm=float(np.linalg.norm(g)),
        )
