"""Readers that turn files and strings into domain models: HGVS p., MAF, VCF, copy-number tables."""
