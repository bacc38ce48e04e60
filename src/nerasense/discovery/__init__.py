"""Biomarker discovery and validation: from a feature × response table to a locked, tested rule.

The workflow of seed 000 ("candidates from preclinical models, tested, combined into composite
biomarkers, then validated in independent data"), as a library on pandas or polars frames:

* :func:`~nerasense.discovery.data.prepare` — check the table (response, kind, features), classify each
  feature as binary or continuous, and account for every row and column left out (missingness, too few
  carriers), never dropping silently;
* :func:`~nerasense.discovery.screen.univariate_screen` — one test per feature for its type (Mann–Whitney
  or Welch t, Spearman, Fisher exact, Cox), an effect size with its CI, Benjamini–Hochberg q-values;
* :func:`~nerasense.discovery.model.fit_penalised` — elastic net (continuous, binary) or CoxNet (survival)
  tuned by nested cross-validation, with cross-validated and Harrell bootstrap optimism-corrected
  performance, calibration, a permutation test of the whole pipeline and, for binary outcomes, a decision curve;
* :func:`~nerasense.discovery.rules.composite_rules` — readable AND-rules over binary features, each
  tested against its parts with an interaction test;
* :func:`~nerasense.discovery.validate.validate` — a locked model or rule applied to a second table.

Heavy libraries (scikit-learn, scikit-survival, statsmodels) are imported inside the functions that use
them; nothing runs at import. This layer never prints, draws or exits.
"""

from importlib import import_module
from typing import Any

_WHERE = {
    "prepare": "data", "AnalysisData": "data", "feature_label": "data",
    "univariate_screen": "screen", "bh_qvalues": "screen", "ScreenRow": "screen",
    "fit_penalised": "model", "ModelSettings": "model", "LockedModel": "model", "ModelResult": "model",
    "composite_rules": "rules", "parse_rule": "rules", "evaluate_rule": "rules", "interaction_test": "rules",
    "validate": "validate", "load_locked": "validate", "LockedRule": "validate",
    "discover": "workflow", "DiscoveryResult": "workflow",
    "build_ctrp_gdsc": "celllines",
}


def __getattr__(name: str) -> Any:
    """The public names, imported from their module on first use (``import nerasense.discovery`` stays cheap)."""
    if name in _WHERE:
        return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_WHERE)
