#!/usr/bin/env bash
# The discovery → validation workflow of seed 000 on real cell-line data (CTRP v2 neratinib AUC × GDSC v17
# genomic features). Reads ../shared/data/ctrp-neratinib where it lies; writes everything under OUT (default
# out/discovery). About 20 minutes on a busy two-core machine (the permutation test dominates).
set -euo pipefail
cd "$(dirname "$0")/../.."
NS=${NS:-.venv/bin/nerasense}
DATA=${DATA:-../shared/data/ctrp-neratinib}
OUT=${OUT:-out/discovery}
SEED=${SEED:-0}
IGNORE='cell_line,gdsc_name,cosmic_id,cancer_type,gdsc_tissue,match,auc_*,n_exp_*'

# 1. the analysis tables: CTRP names joined to GDSC (unmatched lines listed in join.json), halves by tissue
$NS celllines --data "$DATA" --split tissue --seed "$SEED" -o "$OUT/tables"

# 2. discovery on every line with a neratinib AUC (lower AUC = more sensitive)
$NS discover "$OUT/tables/celllines.tsv" --response auc_neratinib --id cell_line --ignore "$IGNORE" \
    --seed "$SEED" --title "Neratinib sensitivity in 559 cancer cell lines (CTRP v2 × GDSC v17)" -o "$OUT/neratinib"

# 2b. the same screen adjusted for tissue of origin (CTRP cancer type), which dominates cell-line AUC
$NS discover "$OUT/tables/celllines.tsv" --response auc_neratinib --id cell_line --ignore "$IGNORE" --adjust cancer_type \
    --no-model --seed "$SEED" --title "Neratinib sensitivity adjusted for tissue" -o "$OUT/neratinib-adjusted"

# 3. the discovered rule held against the two other HER-family TKIs on the same lines
for drug in lapatinib afatinib; do
    $NS validate "$OUT/neratinib/rule.json" "$OUT/tables/celllines.tsv" --response "auc_$drug" \
        --title "Discovered neratinib rule on $drug AUC" -o "$OUT/validate-$drug"
done

# 4. discovery on one half of the tissues, validation (rule and model) on the other half
$NS discover "$OUT/tables/discovery.tsv" --response auc_neratinib --id cell_line --ignore "$IGNORE" \
    --seed "$SEED" --title "Neratinib sensitivity, discovery tissues" -o "$OUT/tissue-discovery"
$NS validate "$OUT/tissue-discovery/rule.json" "$OUT/tables/validation.tsv" \
    --title "Discovered rule on the held-out tissues" -o "$OUT/tissue-validation-rule"
$NS validate "$OUT/tissue-discovery/model.json" "$OUT/tables/validation.tsv" \
    --title "Locked model on the held-out tissues" -o "$OUT/tissue-validation-model"

# 5. the engine's own biomarker rules (knowledge base) held against neratinib AUC on every line
$NS validate examples/discovery/engine_rules.yaml "$OUT/tables/celllines.tsv" --response auc_neratinib \
    --title "The engine's neratinib biomarkers on 559 cell lines" -o "$OUT/engine-rules"
echo "reports: $OUT/*/report.html"
