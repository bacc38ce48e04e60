"""Cohort screening: the classification of ``nerasense annotate`` over millions of rows, one partition at a
time, on one machine (:func:`~nerasense.screen.engines.run_local`) or on a Dask cluster
(:func:`~nerasense.screen.engines.run_dask`); both run :func:`~nerasense.screen.partition.screen_part` on
the same partitions (:mod:`~nerasense.screen.inputs`) and combine the results the same way
(:mod:`~nerasense.screen.summary`)."""
