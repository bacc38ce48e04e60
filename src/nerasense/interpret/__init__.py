"""Interpretation of test results: HER2 testing (ASCO/CAP), variants, ctDNA dynamics."""
