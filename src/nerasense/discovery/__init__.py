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
