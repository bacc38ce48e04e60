"""Write examples/meta/neratinib_orr.csv: neratinib response-rate cohorts of the knowledge base, by tumour type.

Every ORR result in ``trials.yaml`` whose arm contains neratinib and that gives a cohort size is either a row
here (its responders from the knowledge base; where only the rate is recorded, rate × n when that is a
whole number) or listed in SKIP with the reason. A new cohort in the knowledge base makes this script fail
until it is placed (tests/stats/test_meta.py runs the same check).
Run: .venv/bin/python examples/meta/build_neratinib_orr.py
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from nerasense.knowledge.loader import load_knowledge

HERE = Path(__file__).resolve().parent
OUT = HERE / "neratinib_orr.csv"
# result id → tumour type (the grouping of the example)
TUMOUR = {
    "summit-breast-orr": "breast",
    "summit-tnbc-n-orr": "breast",
    "summit-tnbc-nt-orr": "breast",
    "fb10-orr": "breast",
    "summit-nsclc-orr": "lung",
    "kcsg-orr-nsclc": "lung",
    "summit-bladder-orr": "bladder",
    "summit-crc-orr": "colorectal",
    "summit-biliary-orr": "biliary",
    "summit-cervical-orr": "cervical",
}
SKIP = {
    "summit-breast-er-pos-orr": "part of summit-breast-orr (ER-positive subset)",
    "summit-breast-er-neg-orr": "part of summit-breast-orr (ER-negative subset)",
    "summit-her3-orr": "HER3-mutant cohort of several tumour types, not one tumour type",
    "summit-biliary-gallbladder-orr": "part of summit-biliary-orr (gallbladder subset)",
    "summit-biliary-cholangio-orr": "part of summit-biliary-orr (cholangiocarcinoma subset)",
    "summit-biliary-ampullary-orr": "part of summit-biliary-orr (ampullary subset)",
    "summit-cervical-orr-interim": "interim report of the cohort whose final analysis is summit-cervical-orr",
    "kcsg-orr": "all tumour types of KCSG AL20-17 together; its NSCLC cohort is a row",
}


def rows() -> list[dict[str, object]]:
    kb = load_knowledge()
    out, unplaced = [], []
    for trial in kb.trials.values():
        for r in trial.results:
            if r.endpoint != "ORR" or r.n is None or "neratinib" not in (r.arm or ""):
                continue
            if r.id in SKIP:
                continue
            if r.id not in TUMOUR:
                unplaced.append(r.id)
                continue
            events = r.responders
            if events is None:
                guess = r.value * r.n
                if abs(guess - round(guess)) > 0.02:
                    raise SystemExit(f"{r.id}: rate {r.value} × n {r.n} is not a whole number of responders")
                events = round(guess)
            label = f"{trial.id}: {r.subgroup or r.arm}"
            out.append({"study": label, "result_id": r.id, "tumour": TUMOUR[r.id], "arm": r.arm, "events": events,
                        "n": r.n, "source": r.source, "verification": r.verification.value})
    if unplaced:
        raise SystemExit(f"ORR results not placed in TUMOUR or SKIP: {', '.join(unplaced)}")
    return sorted(out, key=lambda d: (str(d["tumour"]), str(d["study"])))


def main() -> int:
    data = rows()
    with OUT.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(data[0]))
        w.writeheader()
        w.writerows(data)
    print(f"wrote {OUT} ({len(data)} cohorts)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
