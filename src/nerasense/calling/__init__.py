"""Reads to calls: alignment (bwa mem, samtools), our own pileup and low-allele-fraction caller, the limit of
detection at every hotspot, VCF output in chromosome coordinates, and the numbers of the QC report.

May import domain, knowledge and stats (design.md). Nothing runs at import; bwa and samtools run as
subprocesses only inside :func:`nerasense.calling.run.run_call`.
"""
