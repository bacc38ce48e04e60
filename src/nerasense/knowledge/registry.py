"""Which model validates which ``kind`` of knowledge file.

Add a line here when a new kind of knowledge file is introduced; the loader refuses unknown kinds.
"""

from __future__ import annotations

from pydantic import BaseModel

from nerasense.knowledge import calling_schema, ctdna_schema, dosing_schema, genomics_schema, schema

KINDS: dict[str, type[BaseModel]] = {
    "sources": schema.Source,
    "trials": schema.Trial,
    "her2_ihc_scores": schema.IhcScoreRule,
    "her2_ish_dual_probe": schema.IshGroupRule,
    "her2_ish_single_probe": schema.SingleProbeRule,
    "her2_categories": schema.CategoryRule,
    "her2_thresholds": schema.Threshold,
    "her2_tumour_schemes": schema.Her2TumourScheme,
    "her2_tumour_rules": schema.Her2TumourRule,
    "ctdna_parameters": ctdna_schema.CtdnaParameter,
    "ctdna_response_definitions": ctdna_schema.MolecularResponseDefinition,
    "ctdna_emergent_watch": ctdna_schema.EmergentWatch,
    "regimens": schema.Regimen,
    "tumour_lineages": schema.TumourLineageRule,
    "tcga_oncotree": schema.TcgaStudyMap,
    "genomic_facts": schema.GenomicFactRule,
    "evidence": schema.EvidenceItem,
    "evidence_levels": schema.LevelDefinition,
    "call_rules": schema.CallRule,
    "scoring_factors": schema.ScoringFactor,
    "regimen_dosing": dosing_schema.RegimenDosing,
    "dose_schedules": dosing_schema.DoseSchedule,
    "dose_reductions": dosing_schema.ReductionLadder,
    "toxicity_rules": dosing_schema.ToxicityRule,
    "interactions": dosing_schema.InteractionClass,
    "bsa_formulas": dosing_schema.BsaFormula,
}

# Genomic alterations (issue 3): models in nerasense.knowledge.genomics_schema
KINDS.update({
    "gene_aliases": genomics_schema.GeneAlias,
    "protein_regions": genomics_schema.ProteinRegion,
    "variant_rules": genomics_schema.VariantRule,
    "variant_aliases": genomics_schema.VariantAlias,
    "pathway_genes": genomics_schema.PathwayGene,
    "hotspot_tables": genomics_schema.HotspotTable,
    # issue 16: classification vocabulary -> call on neratinib
    "oncogenicity_effects": genomics_schema.OncogenicityEffect,
    "protein_sequences": genomics_schema.ProteinSequence,
})

# Reads to calls (issue 22): models in nerasense.knowledge.calling_schema
KINDS.update({
    "calling_parameters": calling_schema.CallingParameter,
    "grch38_shifts": calling_schema.BuildShift,
})
