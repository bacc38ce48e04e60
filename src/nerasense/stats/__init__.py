"""Trial and cohort statistics: response rates, designs, survival, cut-points, RECIST 1.1.

Each module says which convention it follows (CI method, ties, one- or two-sided α) and offers the
others. The layer imports only :mod:`nerasense.errors` (and :mod:`nerasense.domain`); it never
prints, plots or exits. Modules are imported on demand so that ``import nerasense.stats`` stays cheap.
"""
