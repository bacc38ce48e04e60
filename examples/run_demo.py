"""The main job on the bundled examples: `make demo` runs this.

It validates the knowledge base, then runs every bundled example through the command line exactly as a
user would, writing each JSON answer (and report, where the command makes one) under ``out/``.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import yaml

from nerasense.cli import main

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "out"


def run(name: str, argv: list[str]) -> int:
    """Run one command, capturing its JSON output into out/<name>.json."""
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main([*argv, "--json"])
    target = OUT / f"{name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(buf.getvalue(), encoding="utf-8")
    status = "ok" if code == 0 else f"exit {code}"
    print(f"  {status:<7} nerasense {shlex.join(argv)}  ->  {target.relative_to(HERE.parent)}")
    return code


def main_demo() -> int:
    failures = 0
    print("nerasense demo (research use only)")
    failures += run("kb-validate", ["kb", "validate"]) != 0
    cases = yaml.safe_load((HERE / "her2_cases.yaml").read_text(encoding="utf-8"))
    print(f"HER2 testing — {len(cases)} real TCGA-BRCA cases (examples/her2_cases.yaml):")
    for case in cases:
        failures += run(f"her2/{case['id']}", ["her2", *case["args"]]) != 0
    for case in cases:
        d = json.loads((OUT / "her2" / f"{case['id']}.json").read_text(encoding="utf-8"))
        print(f"    {case['id']:<40} {d['result'] or '-':<22} group {d['ish_group'] or '-'}  "
              f"{d['category'] or '-':<14} (lab: {case['lab']})")
    failures += assess_demo()
    failures += stats_demo()
    print("Dosing — NCT07333937 regimen (70 kg, 170 cm) and an interaction check:")
    failures += run("dosing/neratinib-fulvestrant-eribulin", [
        "dosing", "neratinib-fulvestrant-eribulin", "--weight", "70", "--height", "170",
        "--start", "2026-03-02", "--cycles", "2"]) != 0
    failures += run("interactions/example", ["interactions", "omeprazole", "famotidine", "Tegretol", "paracetamol"]) != 0
    failures += genomics_demo()
    failures += ctdna_demo()
    return 1 if failures else 0


def genomics_demo() -> int:
    """Classify ERBB2 alleles one by one, then annotate the bundled MAF, VCF and copy-number examples."""
    failures = 0
    alleles = [("ERBB2", "L755S"), ("HER2", "A775_G776insYVMA"), ("ERBB2", "p.Thr798Ile"), ("ERBB2", "T862A")]
    print(f"Genomics — {len(alleles)} alleles (nerasense variant) and 3 files (nerasense annotate):")
    for gene, change in alleles:
        name = f"genomics/variant-{gene}-{change}".replace(">", "").replace(".", "")
        failures += run(name, ["variant", gene, change]) != 0
        d = json.loads((OUT / f"{name}.json").read_text(encoding="utf-8"))
        flag = ", lower benefit" if d["lower_benefit"] else ""
        print(f"    {gene} {change:<18} -> {d['protein_change']:<16} {d['effect']}{flag}  [{', '.join(d['evidence'])}]")
    for fname in ("example_tumours.maf", "example_tumour_vep.vcf", "example_cna.tsv"):
        stem = fname.split(".")[0]
        failures += run(f"genomics/annotate-{stem}", ["annotate", str(HERE / "genomics" / fname)]) != 0
        d = json.loads((OUT / "genomics" / f"annotate-{stem}.json").read_text(encoding="utf-8"))
        s = d["summary"]
        print(f"    {fname:<24} {s['input_records']} records -> {s['alterations']} alterations, "
              f"{s['rejected']} rejected; effects {s['by_effect']}")
    return failures


def assess_demo() -> int:
    """Every bundled patient archetype through `nerasense assess`, with an HTML report each."""
    print("Patient assessments — examples/patients/ (reports in out/reports/):")
    failures = 0
    for path in sorted((HERE / "patients").glob("*.yaml")):
        report = OUT / "reports" / f"{path.stem}.html"
        failures += run(f"assess/{path.stem}", ["assess", str(path), "-o", str(report)]) != 0
        d = json.loads((OUT / "assess" / f"{path.stem}.json").read_text(encoding="utf-8"))
        calls = [f"{r['regimen_id']}: {r['call']}" for r in d["regimens"] if r["call"] != "not applicable"]
        print(f"      {'; '.join(calls) or 'no neratinib regimen applies'}")
    return failures


def stats_demo() -> int:
    """Trial statistics on the bundled files in examples/stats/ (and the real SUMMIT cohort if present)."""
    st = HERE / "stats"
    print("Trial statistics — examples/stats/:")
    jobs = [
        ("stats/orr-summit-breast", ["stats", "orr", "--responders", "8", "--evaluable", "25"]),
        ("stats/design-seed001", ["design", "single-arm", "--p0", "0.21", "--p1", "0.43", "--alpha", "0.05",
                                  "--power", "0.8", "--sides", "2", "--dropout", "0.1"]),
        ("stats/simon-0.1-0.3", ["design", "simon", "--p0", "0.1", "--p1", "0.3", "--alpha", "0.05", "--power", "0.8"]),
        ("stats/km-demo", ["survival", "km", str(st / "demo_cohort.csv"), "--time", "pfs_months", "--event", "pfs_event",
                           "--group", "neratinib", "--times", "6,12", "--tau", "24"]),
        ("stats/cox-demo", ["survival", "cox", str(st / "demo_cohort.csv"), "--time", "pfs_months", "--event", "pfs_event",
                            "--covariates", "neratinib,her2_marker", "--strata", "site"]),
        ("stats/cutpoint-demo", ["cutpoint", str(st / "demo_cohort.csv"), "--time", "pfs_months", "--event", "pfs_event",
                                 "--marker", "her2_marker", "--permutations", "200", "--seed", "1"]),
        ("stats/recist-demo", ["recist", str(st / "lesions.csv")]),
        ("stats/cohort-demo", ["cohort", "report", str(st / "demo_cohort.yaml"), "-o", str(OUT / "stats" / "demo_cohort.html")]),
    ]
    jobs.append(("stats/meta-neratinib-orr", ["meta", str(HERE / "meta" / "neratinib_orr.csv"), "--measure", "PFT",
                                              "--subgroup", "tumour", "--egger",
                                              "--forest", str(OUT / "stats" / "meta_forest.png"),
                                              "--funnel", str(OUT / "stats" / "meta_funnel.png")]))
    jobs.append(("stats/reconstruct-gbsg2", ["reconstruct", str(HERE / "reconstruct" / "gbsg2_hormone_curve.csv"),
                                             "--at-risk", str(HERE / "reconstruct" / "gbsg2_hormone_at_risk.csv"),
                                             "-o", str(OUT / "stats" / "gbsg2_rebuilt_ipd.csv")]))
    km = HERE.parent.parent / "shared" / "data" / "kmdata"
    if km.is_dir():
        dig = km / "digitised"
        jobs.append(("stats/reconstruct-checkmate067", ["reconstruct", str(dig / "Checkmate_067_S3A_Nivolumab.csv"),
                                                        "--at-risk", str(dig / "Checkmate_067_At_Risk.csv"),
                                                        "-o", str(OUT / "stats" / "checkmate067_nivolumab_ipd.csv")]))
        jobs.append(("stats/plan-seed001-single-arm", ["plan", str(km / "ipd.parquet"), "--where", "dataset=TH3RESA_2A",
                                                       "--where", "arm=physicians_choice", "--hr", "0.6",
                                                       "--n", "31,35,60", "--design", "single-arm"]))
    if (HERE.parent.parent / "shared" / "data" / "summit-biliary").is_dir():
        jobs.append(("stats/cohort-summit-biliary", ["cohort", "report", str(st / "summit_biliary.yaml"),
                                                     "-o", str(OUT / "stats" / "summit_biliary.html"),
                                                     "--allow-dir", str(HERE.parent.parent / "shared" / "data")]))
    return sum(run(name, argv) != 0 for name, argv in jobs)


def ctdna_demo() -> int:
    """Serial plasma ctDNA on the illustrative series of examples/patients/ctdna (made up, see its README)."""
    folder = HERE / "patients" / "ctdna"
    print("ctDNA — illustrative series built from the seeds' patterns (examples/patients/ctdna/README.md):")
    code = run("ctdna", ["ctdna", str(folder / "series.csv"), "--tissue", str(folder / "tissue.csv"),
                         "--assessments", str(folder / "assessments.csv"), "-o", str(OUT / "ctdna" / "timeline.png")])
    if code != 0:
        return 1
    d = json.loads((OUT / "ctdna.json").read_text(encoding="utf-8"))
    for p in d["patients"]:
        responses = ", ".join(f"{m['definition']}={m['status']}" for m in p["molecular_response"]
                              if m["status"] not in ("not-applicable", "not-evaluable"))
        flags = ", ".join(f["id"] for f in p["flags"]) or "-"
        print(f"    {p['patient_id']:<18} flags: {flags}")
        if responses:
            print(f"    {'':<18} response: {responses}")
    return 0


if __name__ == "__main__":
    sys.exit(main_demo())
