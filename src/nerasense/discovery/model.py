"""Penalised multivariable model, tuned by nested cross-validation, with its performance told honestly.

* **Model.** Features are standardised inside every fit (mean 0, SD 1 on the training rows). Continuous
  response: elastic net (scikit-learn ``ElasticNetCV``); binary: elastic-net logistic regression
  (``LogisticRegressionCV``, saga, log-loss); survival: CoxNet (scikit-survival
  ``CoxnetSurvivalAnalysis``). The penalty (α or C) and the L1 ratio are chosen by an *inner* K-fold
  cross-validation inside each training set, so the outer folds never see the tuning.
* **Cross-validated performance.** Outer K-fold CV (stratified on the outcome or the event); the metric
  (R², ROC AUC, Harrell's C) is reported per fold, as their mean and SD, and on the pooled out-of-fold
  predictions, which also give the calibration and the decision curve.
* **Optimism-corrected performance** (Harrell, Lee & Mark, Stat Med 1996; Steyerberg, *Clinical
  Prediction Models*, 2nd ed., ch. 17.3): the model is refitted on B bootstrap samples with the penalty
  chosen on all rows (as R ``rms::validate(method="boot")`` refits a penalised fit with its penalty);
  optimism = mean(performance on the bootstrap sample − performance on the original rows); corrected =
  apparent − optimism. The penalty is not re-tuned inside the bootstrap: duplicated rows fall into both
  sides of an inner split and would choose too small a penalty. The choice of the penalty is validated by
  the nested cross-validation instead.
* **Calibration** of the out-of-fold predictions: continuous, OLS of y on ŷ (slope, intercept) and
  calibration-in-the-large mean(y − ŷ); binary, logistic regression of y on logit(p̂) (slope) and the
  intercept with logit(p̂) as offset (calibration-in-the-large; Van Calster et al., J Clin Epidemiol 2016);
  survival, the Cox coefficient of the linear predictor (slope; no intercept without a baseline hazard).
* **Permutation test of the whole model:** the response is shuffled (time and event together) P times and
  the nested CV rerun; p = (1 + #{null ≥ observed}) / (P + 1) (Ojala & Garriga, JMLR 2010).
* **Decision curve** (binary): net benefit TP/n − FP/n · pₜ/(1 − pₜ) of the out-of-fold predictions
  against treat-all and treat-none (Vickers & Elkin, Med Decis Making 2006).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nerasense.discovery.data import AnalysisData
from nerasense.errors import AnalysisError, InputError, Problem

Progress = Callable[[str, int, int], None]
METRIC = {"continuous": "R²", "binary": "ROC AUC", "survival": "Harrell's C"}
CHANCE = {"continuous": 0.0, "binary": 0.5, "survival": 0.5}


@dataclass(frozen=True)
class ModelSettings:
    """Everything that decides a fit; together with the seed it reproduces a run exactly."""

    outer_folds: int = 5
    inner_folds: int = 5
    l1_ratios: tuple[float, ...] = (0.5, 1.0)
    n_alphas: int = 20
    n_bootstrap: int = 50
    n_permutations: int = 20
    seed: int = 0

    def check(self, n: int) -> None:
        bad = []
        if not 2 <= self.outer_folds <= n:
            bad.append(Problem("outer_folds", self.outer_folds, f"an integer from 2 to the number of rows ({n})"))
        if self.inner_folds < 2:
            bad.append(Problem("inner_folds", self.inner_folds, "an integer ≥ 2"))
        if not self.l1_ratios or any(not 0 < r <= 1 for r in self.l1_ratios):
            bad.append(Problem("l1_ratios", self.l1_ratios, "ratios in (0, 1]"))
        if self.n_alphas < 2:
            bad.append(Problem("n_alphas", self.n_alphas, "an integer ≥ 2"))
        if self.n_bootstrap < 0 or self.n_permutations < 0:
            bad.append(Problem("n_bootstrap / n_permutations", (self.n_bootstrap, self.n_permutations), "integers ≥ 0"))
        if bad:
            raise InputError(bad)


@dataclass
class LockedModel:
    """A fitted model frozen for validation: coefficients on the features' own scale.

    ``linear_predictor(x) = intercept + x · coefficients``; :meth:`predict` turns it into the response
    scale (continuous: the value; binary: the probability; survival: the risk score, higher = worse).
    """

    kind: str
    response: str
    event: str | None
    features: list[str]
    coefficients: list[float]
    intercept: float
    tuning: dict[str, float]
    discovery: dict[str, Any] = field(default_factory=dict)

    def linear_predictor(self, x: np.ndarray) -> np.ndarray:
        return self.intercept + np.asarray(x, dtype=float) @ np.asarray(self.coefficients, dtype=float)

    def predict(self, x: np.ndarray) -> np.ndarray:
        lp = self.linear_predictor(x)
        return _expit(lp) if self.kind == "binary" else lp

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "model",
            "kind": self.kind,
            "response": self.response,
            "event": self.event,
            "features": self.features,
            "coefficients": self.coefficients,
            "intercept": self.intercept,
            "tuning": self.tuning,
            "discovery": self.discovery,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LockedModel:
        keys = ("kind", "response", "event", "features", "coefficients", "intercept", "tuning")
        missing = [k for k in keys if k not in d]
        if missing or len(d.get("features", [])) != len(d.get("coefficients", [])):
            raise InputError(Problem("model", ", ".join(missing) or "features/coefficients of unequal length",
                                     "a model written by nerasense discover (keys: " + ", ".join(keys) + ")"))
        return cls(**{k: d[k] for k in keys}, discovery=d.get("discovery", {}))


def _expit(v: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-v))


def performance(kind: str, y: np.ndarray, pred: np.ndarray, event: np.ndarray | None = None) -> float:
    """R² (continuous; 1 − SSE/SST about the mean of the rows scored), ROC AUC (binary), Harrell's C (survival).

    Harrell's C counts comparable pairs (the shorter time an event) and ties in the prediction as ½; pairs
    tied in time are not comparable (scikit-survival ``concordance_index_censored``, as R
    ``survival::concordance`` with ``timewt="n"`` for untied times).
    """
    if kind == "continuous":
        sst = float(np.sum((y - y.mean()) ** 2))
        return float("nan") if sst == 0 else 1.0 - float(np.sum((y - pred) ** 2)) / sst
    if kind == "binary":
        from sklearn.metrics import roc_auc_score

        return float("nan") if len(np.unique(y)) < 2 else float(roc_auc_score(y, pred))
    from sksurv.metrics import concordance_index_censored

    assert event is not None
    if event.sum() == 0:
        return float("nan")
    return float(concordance_index_censored(event.astype(bool), y, pred)[0])


class _Tuned:
    """The whole tuning-and-fitting procedure on one training set (inner CV inside)."""

    def __init__(self, kind: str, settings: ModelSettings, seed: int) -> None:
        self.kind, self.s, self.seed = kind, settings, seed

    def fit(self, x: np.ndarray, y: np.ndarray, event: np.ndarray | None = None) -> _Tuned:
        from sklearn.exceptions import ConvergenceWarning

        self.mean_ = x.mean(axis=0)
        sd = x.std(axis=0)
        self.sd_ = np.where(sd > 0, sd, 1.0)
        z = (x - self.mean_) / self.sd_
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            # CoxNet says so when the penalty zeroes every coefficient: the null model, a valid fit
            warnings.filterwarnings("ignore", message="all coefficients are zero", category=UserWarning)
            if self.kind == "continuous":
                self._fit_enet(z, y)
            elif self.kind == "binary":
                self._fit_logistic(z, y)
            else:
                assert event is not None
                self._fit_coxnet(z, y, event)
        return self

    def _fit_enet(self, z: np.ndarray, y: np.ndarray) -> None:
        from sklearn.linear_model import ElasticNetCV
        from sklearn.model_selection import KFold

        m = ElasticNetCV(l1_ratio=list(self.s.l1_ratios), alphas=self.s.n_alphas, eps=1e-2, tol=1e-3, max_iter=5000,
                         cv=KFold(self.s.inner_folds, shuffle=True, random_state=self.seed))
        m.fit(z, y)
        self.coef_std_, self.intercept_std_ = np.asarray(m.coef_, dtype=float), float(m.intercept_)
        self.tuning_ = {"alpha": float(m.alpha_), "l1_ratio": float(m.l1_ratio_)}

    def _fit_logistic(self, z: np.ndarray, y: np.ndarray) -> None:
        from sklearn.linear_model import LogisticRegressionCV
        from sklearn.model_selection import StratifiedKFold

        folds = min(self.s.inner_folds, int(min(y.sum(), (1 - y).sum())))
        if folds < 2:
            raise AnalysisError("binary response: too few events or non-events for inner cross-validation")
        m = LogisticRegressionCV(
            Cs=self.s.n_alphas, l1_ratios=list(self.s.l1_ratios), solver="saga", max_iter=2000, tol=1e-3,
            cv=StratifiedKFold(folds, shuffle=True, random_state=self.seed), scoring="neg_log_loss",
            random_state=self.seed, use_legacy_attributes=False,
        )
        m.fit(z, y.astype(int))
        self.coef_std_, self.intercept_std_ = np.asarray(m.coef_, dtype=float).ravel(), float(np.ravel(m.intercept_)[0])
        self.tuning_ = {"C": float(np.ravel(m.C_)[0]), "l1_ratio": float(np.ravel(m.l1_ratio_)[0])}

    def _fit_coxnet(self, z: np.ndarray, t: np.ndarray, e: np.ndarray) -> None:
        from sklearn.model_selection import StratifiedKFold
        from sksurv.linear_model import CoxnetSurvivalAnalysis
        from sksurv.util import Surv

        yy = Surv.from_arrays(e.astype(bool), t)
        folds = min(self.s.inner_folds, int(min(e.sum(), (1 - e).sum())) or self.s.inner_folds)
        folds = max(folds, 2)
        best: tuple[float, float, float] | None = None  # (score, l1_ratio, alpha)
        for l1 in self.s.l1_ratios:
            full = CoxnetSurvivalAnalysis(l1_ratio=l1, n_alphas=self.s.n_alphas, alpha_min_ratio=0.01).fit(z, yy)
            alphas = full.alphas_
            scores = np.zeros(len(alphas))
            counts = np.zeros(len(alphas))
            split = StratifiedKFold(folds, shuffle=True, random_state=self.seed).split(z, e)
            for tr, te in split:
                m = CoxnetSurvivalAnalysis(l1_ratio=l1, alphas=alphas).fit(z[tr], yy[tr])
                for j, a in enumerate(m.alphas_):
                    c = performance("survival", t[te], m.predict(z[te], alpha=a), e[te])
                    if math.isfinite(c):
                        scores[j] += c
                        counts[j] += 1
            mean = np.where(counts > 0, scores / np.maximum(counts, 1), -np.inf)
            j = int(np.argmax(mean))
            if best is None or mean[j] > best[0]:
                best = (float(mean[j]), l1, float(alphas[j]))
        assert best is not None
        _, l1, alpha = best
        m = CoxnetSurvivalAnalysis(l1_ratio=l1, alphas=[alpha]).fit(z, yy)
        self.coef_std_, self.intercept_std_ = np.asarray(m.coef_, dtype=float).ravel(), 0.0
        self.tuning_ = {"alpha": alpha, "l1_ratio": l1}

    def fit_fixed(self, x: np.ndarray, y: np.ndarray, event: np.ndarray | None, tuning: dict[str, float]) -> _Tuned:
        """Refit with the penalty and L1 ratio fixed (the bootstrap of :func:`fit_penalised`)."""
        from sklearn.exceptions import ConvergenceWarning

        self.mean_ = x.mean(axis=0)
        sd = x.std(axis=0)
        self.sd_ = np.where(sd > 0, sd, 1.0)
        z = (x - self.mean_) / self.sd_
        self.tuning_ = dict(tuning)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            # CoxNet says so when the penalty zeroes every coefficient: the null model, a valid fit
            warnings.filterwarnings("ignore", message="all coefficients are zero", category=UserWarning)
            if self.kind == "continuous":
                from sklearn.linear_model import ElasticNet

                m = ElasticNet(alpha=tuning["alpha"], l1_ratio=tuning["l1_ratio"], tol=1e-3, max_iter=5000).fit(z, y)
                self.coef_std_, self.intercept_std_ = np.asarray(m.coef_, dtype=float), float(m.intercept_)
            elif self.kind == "binary":
                from sklearn.linear_model import LogisticRegression

                lr = LogisticRegression(C=tuning["C"], l1_ratio=tuning["l1_ratio"], solver="saga", max_iter=2000, tol=1e-3,
                                        random_state=self.seed).fit(z, y.astype(int))
                self.coef_std_, self.intercept_std_ = np.asarray(lr.coef_, dtype=float).ravel(), float(lr.intercept_[0])
            else:
                from sksurv.linear_model import CoxnetSurvivalAnalysis
                from sksurv.util import Surv

                assert event is not None
                cn = CoxnetSurvivalAnalysis(l1_ratio=tuning["l1_ratio"], alphas=[tuning["alpha"]])
                cn.fit(z, Surv.from_arrays(event.astype(bool), y))
                self.coef_std_, self.intercept_std_ = np.asarray(cn.coef_, dtype=float).ravel(), 0.0
        return self

    def linear_predictor(self, x: np.ndarray) -> np.ndarray:
        return self.intercept_std_ + ((x - self.mean_) / self.sd_) @ self.coef_std_

    def predict(self, x: np.ndarray) -> np.ndarray:
        lp = self.linear_predictor(x)
        return _expit(lp) if self.kind == "binary" else lp

    def original_scale(self) -> tuple[np.ndarray, float]:
        coef = self.coef_std_ / self.sd_
        return coef, float(self.intercept_std_ - np.sum(coef * self.mean_))


def _outer_splits(kind: str, y: np.ndarray, event: np.ndarray | None, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import KFold, StratifiedKFold

    strat = y if kind == "binary" else event
    if strat is not None and min(strat.sum(), (1 - strat).sum()) >= k:
        return list(StratifiedKFold(k, shuffle=True, random_state=seed).split(y, strat))
    return list(KFold(k, shuffle=True, random_state=seed).split(y))


def nested_cv(
    kind: str, x: np.ndarray, y: np.ndarray, event: np.ndarray | None, settings: ModelSettings, seed: int,
    progress: Progress | None = None,
) -> tuple[list[float], np.ndarray]:
    """Per-fold performance and the out-of-fold predictions (response scale) of the tuned procedure."""
    folds = _outer_splits(kind, y, event, settings.outer_folds, seed)
    oof = np.full(len(y), np.nan)
    scores = []
    for i, (tr, te) in enumerate(folds):
        m = _Tuned(kind, settings, seed + i).fit(x[tr], y[tr], None if event is None else event[tr])
        oof[te] = m.predict(x[te])
        scores.append(performance(kind, y[te], oof[te], None if event is None else event[te]))
        if progress is not None:
            progress("nested cross-validation", i + 1, len(folds))
    return scores, oof


def calibration(kind: str, y: np.ndarray, pred: np.ndarray, event: np.ndarray | None = None) -> dict[str, Any]:
    """Calibration slope and intercept of predictions against outcomes (see the module docstring)."""
    import statsmodels.api as sm

    if kind == "continuous":
        fit = sm.OLS(y, sm.add_constant(pred)).fit()
        return {"slope": float(fit.params[1]), "intercept": float(fit.params[0]),
                "in_the_large": float(np.mean(y - pred)), "method": "OLS of y on prediction"}
    if kind == "binary":
        p = np.clip(pred, 1e-12, 1 - 1e-12)
        lp = np.log(p / (1 - p))
        slope = sm.GLM(y, sm.add_constant(lp), family=sm.families.Binomial()).fit()
        citl = sm.GLM(y, np.ones((len(y), 1)), family=sm.families.Binomial(), offset=lp).fit()
        return {"slope": float(slope.params[1]), "intercept": float(citl.params[0]),
                "in_the_large": float(citl.params[0]),
                "method": "logistic regression on logit(p); intercept with logit(p) as offset"}
    import pandas as pd

    from nerasense.stats.survival import cox

    assert event is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cox(pd.DataFrame({"time": y, "event": event, "lp": pred}), ["lp"])
    return {"slope": res.coefficients["lp"]["coef"], "intercept": None, "in_the_large": None,
            "method": "Cox regression on the linear predictor (no intercept without a baseline hazard)"}


def calibration_curve(kind: str, y: np.ndarray, pred: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Mean prediction and mean outcome in ``bins`` groups of equal size by prediction."""
    if kind == "survival":
        return []
    order = np.argsort(pred, kind="stable")
    out = []
    for chunk in np.array_split(order, min(bins, len(order))):
        if chunk.size:
            out.append({"predicted": float(pred[chunk].mean()), "observed": float(y[chunk].mean()), "n": int(chunk.size)})
    return out


def decision_curve(y: np.ndarray, prob: np.ndarray, thresholds: np.ndarray | None = None) -> list[dict[str, float]]:
    """Net benefit of treating when p̂ ≥ pₜ, of treating all, and of none (0), at each threshold pₜ."""
    pts = np.round(np.arange(0.01, 1.0, 0.01), 2) if thresholds is None else np.asarray(thresholds, dtype=float)
    n = len(y)
    prevalence = float(np.mean(y))
    out = []
    for pt in pts:
        w = pt / (1 - pt)
        treat = prob >= pt
        tp = float(np.sum(treat & (y == 1)))
        fp = float(np.sum(treat & (y == 0)))
        out.append({"threshold": float(pt), "model": tp / n - fp / n * w, "treat_all": prevalence - (1 - prevalence) * w,
                    "treat_none": 0.0})
    return out


@dataclass
class ModelResult:
    kind: str
    metric: str
    settings: ModelSettings
    n: int
    n_events: int | None
    locked: LockedModel
    apparent: float
    cv_folds: list[float]
    cv_pooled: float
    optimism: float | None
    optimism_corrected: float | None
    bootstrap_inclusion: dict[str, float]
    calibration: dict[str, Any]
    calibration_curve: list[dict[str, float]]
    permutation_null: list[float]
    permutation_p: float | None
    decision_curve: list[dict[str, float]]
    oof: np.ndarray

    @property
    def cv_mean(self) -> float:
        return float(np.nanmean(self.cv_folds))

    @property
    def cv_sd(self) -> float:
        return float(np.nanstd(self.cv_folds, ddof=1)) if len(self.cv_folds) > 1 else float("nan")

    def selected(self) -> list[dict[str, Any]]:
        """Features with a non-zero coefficient, largest standardised effect first."""
        rows = [
            {"feature": f, "coefficient": c, "standardised": s, "bootstrap_inclusion": self.bootstrap_inclusion.get(f)}
            for f, c, s in zip(self.locked.features, self.locked.coefficients,
                               self.locked.discovery["standardised_coefficients"], strict=True)
            if c != 0
        ]
        return sorted(rows, key=lambda r: -abs(r["standardised"]))

    def to_dict(self) -> dict[str, Any]:
        def fin(v: Any) -> Any:
            return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v

        return {
            "kind": self.kind,
            "metric": self.metric,
            "chance": CHANCE[self.kind],
            "n": self.n,
            "n_events": self.n_events,
            "settings": self.settings.__dict__ | {"l1_ratios": list(self.settings.l1_ratios)},
            "tuning": self.locked.tuning,
            "apparent": fin(self.apparent),
            "cv": {"mean": fin(self.cv_mean), "sd": fin(self.cv_sd), "folds": [fin(v) for v in self.cv_folds],
                   "pooled": fin(self.cv_pooled)},
            "optimism": fin(self.optimism),
            "optimism_corrected": fin(self.optimism_corrected),
            "calibration": {k: fin(v) for k, v in self.calibration.items()},
            "calibration_curve": self.calibration_curve,
            "permutation": {"n": len(self.permutation_null), "p": fin(self.permutation_p),
                            "null_mean": fin(float(np.nanmean(self.permutation_null))) if self.permutation_null else None,
                            "null": [fin(v) for v in self.permutation_null]},
            "decision_curve": self.decision_curve,
            "selected": self.selected(),
        }


def fit_penalised(
    data: AnalysisData,
    settings: ModelSettings | None = None,
    features: list[str] | None = None,
    progress: Progress | None = None,
) -> ModelResult:
    """Fit, cross-validate, bootstrap-validate and permutation-test the penalised model on ``data``.

    ``features`` restricts the model to some of the tested features (default: all of them). Rows with a
    missing value in any model feature raise :class:`AnalysisError` naming the features (impute or
    exclude them before; the screen is available-case, the model complete-case).
    """
    s = settings or ModelSettings()
    names = features or data.feature_names
    x = data.x(names)
    if np.isnan(x).any():
        bad = [n for n, col in zip(names, x.T, strict=True) if np.isnan(col).any()]
        raise AnalysisError(f"the model needs complete features; missing values in {', '.join(bad[:10])}")
    y, e, kind = data.y, data.event_array, data.kind
    s.check(len(y))
    rng = np.random.default_rng(s.seed)

    def tick(stage: str, i: int, total: int) -> None:
        if progress is not None:
            progress(stage, i, total)

    full = _Tuned(kind, s, s.seed).fit(x, y, e)
    apparent = performance(kind, y, full.predict(x), e)
    cv_seed = int(rng.integers(2**31 - 1))
    folds, oof = nested_cv(kind, x, y, e, s, cv_seed, progress)
    cv_pooled = performance(kind, y, oof, e)

    optimism_values, inclusion = [], np.zeros(len(names))
    for b in range(s.n_bootstrap):
        idx = _bootstrap_rows(rng, kind, y, e)
        m = _Tuned(kind, s, s.seed).fit_fixed(x[idx], y[idx], None if e is None else e[idx], full.tuning_)
        boot = performance(kind, y[idx], m.predict(x[idx]), None if e is None else e[idx])
        orig = performance(kind, y, m.predict(x), e)
        optimism_values.append(boot - orig)
        inclusion += m.coef_std_ != 0
        tick("bootstrap validation", b + 1, s.n_bootstrap)
    optimism = float(np.nanmean(optimism_values)) if optimism_values else None

    null = []
    for i in range(s.n_permutations):
        perm = rng.permutation(len(y))
        sc, _ = nested_cv(kind, x, y[perm], None if e is None else e[perm], s, cv_seed)
        null.append(float(np.nanmean(sc)))
        tick("permutation test", i + 1, s.n_permutations)
    cv_mean = float(np.nanmean(folds))
    perm_p = (1 + sum(v >= cv_mean for v in null)) / (len(null) + 1) if null else None

    coef, intercept = full.original_scale()
    locked = LockedModel(
        kind=kind, response=data.response, event=data.event, features=list(names),
        coefficients=[float(c) for c in coef], intercept=intercept, tuning=full.tuning_,
        discovery={"n": len(y), "metric": METRIC[kind], "apparent": apparent, "cv_mean": cv_mean,
                   "optimism_corrected": None if optimism is None else apparent - optimism,
                   "standardised_coefficients": [float(c) for c in full.coef_std_],
                   "seed": s.seed},
    )
    return ModelResult(
        kind=kind, metric=METRIC[kind], settings=s, n=len(y), n_events=None if e is None else int(e.sum()),
        locked=locked, apparent=apparent, cv_folds=folds, cv_pooled=cv_pooled, optimism=optimism,
        optimism_corrected=None if optimism is None else apparent - optimism,
        bootstrap_inclusion={n: float(v / s.n_bootstrap) for n, v in zip(names, inclusion, strict=True)} if s.n_bootstrap else {},
        calibration=calibration(kind, y, oof, e), calibration_curve=calibration_curve(kind, y, oof),
        permutation_null=null, permutation_p=perm_p,
        decision_curve=decision_curve(y, oof) if kind == "binary" else [], oof=oof,
    )


def _bootstrap_rows(rng: np.random.Generator, kind: str, y: np.ndarray, e: np.ndarray | None) -> np.ndarray:
    """Rows of a bootstrap sample; redrawn (rarely) until both outcomes / an event are present."""
    for _ in range(100):
        idx = rng.integers(0, len(y), len(y))
        if kind == "binary" and len(np.unique(y[idx])) < 2:
            continue
        if kind == "survival" and e is not None and e[idx].sum() == 0:
            continue
        return idx
    raise AnalysisError("bootstrap: could not draw a sample with both outcomes; too few events")


__all__ = [
    "CHANCE",
    "METRIC",
    "LockedModel",
    "ModelResult",
    "ModelSettings",
    "calibration",
    "calibration_curve",
    "decision_curve",
    "fit_penalised",
    "nested_cv",
    "performance",
]
