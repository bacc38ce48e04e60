"""RECIST 1.1 engine: lesion measurements → time-point responses → best overall response.

Source: Eisenhauer EA et al., "New response evaluation criteria in solid tumours: revised RECIST
guideline (version 1.1)", Eur J Cancer 2009;45:228–247 (§3–4, Tables 1–3), with the EORTC RECIST
FAQ / clarifications (recist.eortc.org) where the paper is silent. Written here because no usable
Python implementation exists (statistics.md §5: ``pyrecist`` has no nodal CR rule, non-target or
new-lesion input, or confirmation). Every rule is a row of :data:`RULES`; each assessment records the
rules it applied in ``rules``.

Input table (one row per lesion per assessment date; read by column name):

==============  ========================================================================================
column          meaning
==============  ========================================================================================
patient         patient id
date            assessment date (ISO ``YYYY-MM-DD``); the earliest date of a patient is the baseline
lesion_id       lesion id, stable across dates
kind            ``target`` / ``non-target`` / ``new``
organ           organ (required for targets; all lymph nodes count as one organ)
nodal           1 if a lymph node (its short axis is recorded), else 0 (default 0)
diameter        mm: longest diameter, or short axis for nodes (targets)
too_small       1 if "present but too small to measure" (counts 5 mm unless a value is recorded)
disappeared     1 if the lesion has disappeared (counts 0 mm)
status          non-target: ``present`` / ``absent`` / ``progression`` (unequivocal) / ``increase``
                (further increase since the last assessment, for iRECIST; PD here) / ``ne``;
                new: ``unequivocal`` (default) / ``equivocal`` / ``increase`` (iRECIST; unequivocal
                here); target: ``ne`` if not assessed
==============  ========================================================================================

Conventions: PR is judged against the baseline sum, PD against the nadir (smallest sum on study,
baseline included; EORTC erratum to p. 233). Minimum SD duration (default 42 days) and the
confirmation interval (default ≥ 28 days) count from the baseline date and between assessments.
Assessments after the first PD do not enter the best overall response.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from nerasense.errors import ProblemCollector

# input sanity, not a RECIST rule: a diameter over 10 m is a typing or unit error, and the sums and ratios
# of absurd values (1e308) would overflow to infinity
_MAX_DIAMETER_MM = 10_000.0

if TYPE_CHECKING:
    from nerasense.stats.irecist import IRecistResponse

#: rule id → (what it says, where it is)
RULES: dict[str, tuple[str, str]] = {
    "BASE-MAX5": ("at most 5 target lesions in total", "RECIST 1.1 §3.3"),
    "BASE-MAX2-ORGAN": ("at most 2 target lesions per organ; all lymph nodes are one organ", "§3.3; EORTC FAQ"),
    "BASE-MEASURABLE": ("target non-nodal ≥ 10 mm, target node short axis ≥ 15 mm at baseline", "§3.1.1"),
    "BASE-NO-NEW": ("no new lesions at baseline", "§3.3"),
    "M-TOO-SMALL": ("a target too small to measure counts 5 mm (a recorded value is used)", "§3.3; EORTC FAQ"),
    "M-DISAPPEARED": ("a disappeared target counts 0 mm", "Appendix I"),
    "T-CR": ("all non-nodal targets gone and every target node short axis < 10 mm", "§4.3.1"),
    "T-PR": ("sum ≥ 30% below the baseline sum", "§4.3.1"),
    "T-PD": ("sum ≥ 20% above the nadir and ≥ 5 mm absolute increase", "§4.3.1"),
    "T-SD": ("neither PR nor PD", "§4.3.1"),
    "T-PR-HOLD": (
        "after a confirmed PR (any PR without confirmation), a sum back above −30 % but short of PD stays PR",
        "EORTC RECIST FAQ 'Managing PR when TP measurements change slightly over time'; 'The definition of SD'",
    ),
    "T-NE": ("a target not assessed (and the others do not already show PD)", "§4.3.1; Table 1"),
    "T-REAPPEAR": ("after target CR, a target reappearing (or a node ≥ 10 mm) is PD", "Table 3 footnote a; EORTC FAQ"),
    "NT-CR": ("all non-target lesions gone (nodes < 10 mm recorded as absent)", "§4.3.2"),
    "NT-NONCR": ("persistence of one or more non-target lesions", "§4.3.2"),
    "NT-PD": ("unequivocal progression of non-target disease", "§4.3.2"),
    "NT-NE": ("a non-target lesion not assessed", "Table 1"),
    "NEW-PD": ("an unequivocal new lesion is PD", "§4.3.3"),
    "NEW-EQUIVOCAL": ("an equivocal new lesion is not PD; if later unequivocal, PD dates from first sight", "§4.3.3"),
    "OV-CR": ("target CR + non-target CR (or none) + no new → CR", "Table 1 row 1"),
    "OV-PR-CR-NONCR": ("target CR + non-target non-CR/non-PD → PR", "Table 1 row 2"),
    "OV-PR-CR-NE": ("target CR + non-target not evaluated → PR", "Table 1 row 3"),
    "OV-PR": ("target PR + non-target non-PD or NE + no new → PR", "Table 1 row 4"),
    "OV-SD": ("target SD + non-target non-PD or NE + no new → SD", "Table 1 row 5"),
    "OV-NE": ("target NE + non-target non-PD + no new → NE", "Table 1 row 6"),
    "OV-PD": ("any PD (target, non-target or new lesion) → PD", "Table 1 rows 7–9"),
    "OV-NT-ONLY": ("no target disease: CR, NON-CR/NON-PD, NE or PD from non-target and new lesions", "Table 2"),
    "BOR-CONFIRMED-CR": ("CR confirmed by CR ≥ 28 days later → CR", "Table 3 (CR, CR)"),
    "BOR-CONFIRMED-PR": ("PR (or CR) followed ≥ 28 days later by PR or CR → PR", "Table 3 (PR, PR), (PR, CR)"),
    "BOR-CONFIRM-INTERVAL": ("a repeat assessment < 28 days later does not confirm", "§4.6"),
    "BOR-UNCONFIRMED-SD": ("an unconfirmed CR/PR meeting the minimum SD duration → SD", "Table 3 (PR, SD), (PR, PD), (PR, NE)"),
    "BOR-SD-MIN": ("SD needs the minimum duration from baseline", "§4.4.1"),
    "BOR-SD-NOT-MET": ("minimum SD duration not met → PD if PD follows, else NE", "§4.4.1; Table 3"),
    "BOR-AFTER-PD": ("assessments after the first PD do not count", "§4.4.1"),
    "BOR-UNCONFIRMED": ("without confirmation (randomised trials) the best time-point response counts", "§4.4.1"),
    "BOR-CBR": (
        "clinical benefit: CR, PR, or SD / non-CR/non-PD documented ≥ cbr_weeks after baseline (before any PD)",
        "§4.4.1 (SD duration from the start of treatment); Hyman et al. Nature 2018;554:189–194, Methods (24 weeks)",
    ),
}

_RANK = {"CR": 0, "PR": 1, "SD": 2, "NON-CR/NON-PD": 2, "PD": 4, "NE": 5}


@dataclass
class Assessment:
    """One post-baseline (or baseline) time point."""

    date: date
    sod: float | None
    pct_change_baseline: float | None
    pct_change_nadir: float | None
    target: str | None
    non_target: str | None
    new_lesion: bool
    overall: str | None
    rules: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "sod": self.sod,
            "pct_change_baseline": self.pct_change_baseline,
            "pct_change_nadir": self.pct_change_nadir,
            "target": self.target,
            "non_target": self.non_target,
            "new_lesion": self.new_lesion,
            "overall": self.overall,
            "rules": list(self.rules),
        }


@dataclass
class PatientResponse:
    patient: str
    baseline_date: date
    baseline_sod: float | None
    best_response: str
    best_response_unconfirmed: str
    confirmed: bool | None
    best_pct_change: float | None
    assessments: list[Assessment]
    rules: list[str]
    irecist: IRecistResponse | None = None
    sd_weeks: float | None = None
    clinical_benefit: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "patient": self.patient,
            "baseline_date": self.baseline_date.isoformat(),
            "baseline_sod": self.baseline_sod,
            "best_response": self.best_response,
            "best_response_unconfirmed": self.best_response_unconfirmed,
            "confirmed": self.confirmed,
            "best_pct_change": self.best_pct_change,
            "sd_weeks": self.sd_weeks,
            "clinical_benefit": self.clinical_benefit,
            "assessments": [a.as_dict() for a in self.assessments],
            "rules": list(self.rules),
        }
        if self.irecist is not None:
            out["irecist"] = self.irecist.as_dict()
        return out


_KINDS = ("target", "non-target", "new")
_NT_STATUS = ("present", "absent", "progression", "increase", "ne")
_NEW_STATUS = ("unequivocal", "equivocal", "increase")


def _flag(v: Any) -> bool | None:
    if v is None or (isinstance(v, float) and v != v) or (isinstance(v, str) and not v.strip()):
        return False
    s = str(v).strip().lower()
    if s in ("1", "1.0", "true", "yes", "y", "t"):
        return True
    if s in ("0", "0.0", "false", "no", "n", "f"):
        return False
    return None


def _empty(v: Any) -> bool:
    return v is None or (isinstance(v, float) and v != v) or (isinstance(v, str) and not v.strip())


def _parse(df: Any) -> list[dict[str, Any]]:
    """Validate the lesion table; every problem is listed with its 1-based row."""
    bad = ProblemCollector()
    cols = set(map(str, df.columns))
    for c in ("patient", "date", "lesion_id", "kind"):
        if c not in cols:
            bad.add("column", c, f"a column of the lesion table ({', '.join(sorted(cols))})")
    bad.raise_if_any()
    rows = []
    for i, rec in enumerate(df.to_dict("records"), start=1):
        where = f"row {i}"
        r: dict[str, Any] = {"row": i, "patient": str(rec["patient"]), "lesion_id": str(rec["lesion_id"])}
        try:
            r["date"] = date.fromisoformat(str(rec["date"]).strip()[:10])
        except ValueError:
            bad.add("date", rec["date"], "an ISO date YYYY-MM-DD", where=where)
            r["date"] = date.min
        kind = str(rec["kind"]).strip().lower()
        if kind not in _KINDS:
            bad.add("kind", rec["kind"], ", ".join(_KINDS), where=where)
        r["kind"] = kind
        r["organ"] = None if _empty(rec.get("organ")) else str(rec.get("organ")).strip().lower()
        for f in ("nodal", "too_small", "disappeared"):
            fl = _flag(rec.get(f))
            if fl is None:
                bad.add(f, rec.get(f), "0/1, true/false or empty", where=where)
            r[f] = bool(fl)
        status = None if _empty(rec.get("status")) else str(rec.get("status")).strip().lower()
        r["status"] = status
        d = rec.get("diameter")
        r["diameter"] = None
        if not _empty(d):
            try:
                r["diameter"] = float(d)
                if not 0 <= r["diameter"] <= _MAX_DIAMETER_MM:  # NaN and inf fail this too
                    bad.add("diameter", d, f"a length in mm from 0 to {_MAX_DIAMETER_MM:g}", where=where)
            except (TypeError, ValueError):
                bad.add("diameter", d, "a length in mm ≥ 0", where=where)
        if kind == "target":
            if r["organ"] is None:
                bad.add("organ", rec.get("organ"), "an organ name for every target lesion", where=where)
            if status not in (None, "ne"):
                bad.add("status", status, "empty or 'ne' (not assessed) for a target lesion", where=where)
            if r["diameter"] is None and not (r["too_small"] or r["disappeared"] or status == "ne"):
                bad.add("diameter", d, "a measurement in mm, or too_small / disappeared / status=ne", where=where)
        elif kind == "non-target" and status not in _NT_STATUS:
            bad.add("status", status, ", ".join(_NT_STATUS) + " for a non-target lesion", where=where)
        elif kind == "new" and status not in (None, *_NEW_STATUS):
            bad.add("status", status, ", ".join(_NEW_STATUS) + " for a new lesion", where=where)
        rows.append(r)
    bad.raise_if_any()
    return rows


def _measure(r: dict[str, Any], rules: set[str]) -> float | None:
    if r["status"] == "ne":
        return None
    if r["disappeared"]:
        rules.add("M-DISAPPEARED")
        return 0.0
    if r["too_small"]:
        rules.add("M-TOO-SMALL")
        return r["diameter"] if r["diameter"] is not None and r["diameter"] < 5 else 5.0
    return float(r["diameter"])


def _check_baseline(patient: str, base: list[dict[str, Any]], bad: ProblemCollector) -> None:
    targets = [r for r in base if r["kind"] == "target"]
    if len(targets) > 5:
        bad.add(
            "target lesions", len(targets), "at most 5 per patient (RECIST 1.1 §3.3, rule BASE-MAX5)", where=f"patient {patient}"
        )
    per_organ: dict[str, int] = {}
    for r in targets:
        organ = "lymph node" if r["nodal"] else r["organ"]
        per_organ[organ] = per_organ.get(organ, 0) + 1
    for organ, k in per_organ.items():
        if k > 2:
            bad.add(f"target lesions in {organ}", k, "at most 2 per organ (rule BASE-MAX2-ORGAN)", where=f"patient {patient}")
    for r in targets:
        d = r["diameter"]
        if r["disappeared"] or r["too_small"] or d is None:
            bad.add("diameter", d, "a baseline measurement of every target lesion", where=f"row {r['row']}")
        elif r["nodal"] and d < 15:
            bad.add(
                "diameter", d, "short axis ≥ 15 mm for a target node at baseline (rule BASE-MEASURABLE)", where=f"row {r['row']}"
            )
        elif not r["nodal"] and d < 10:
            bad.add("diameter", d, "≥ 10 mm for a non-nodal target at baseline (rule BASE-MEASURABLE)", where=f"row {r['row']}")
    for r in base:
        if r["kind"] == "new":
            bad.add("kind", "new", "target or non-target at baseline (rule BASE-NO-NEW)", where=f"row {r['row']}")


def _overall(target: str | None, nt: str | None, new: bool, rules: list[str]) -> str:
    if target == "PD" or nt == "PD" or new:
        rules.append("OV-PD")
        return "PD"
    if target is None:  # Table 2
        rules.append("OV-NT-ONLY")
        return {"CR": "CR", "NON-CR": "NON-CR/NON-PD", "NE": "NE"}.get(nt or "NE", "NE")
    if target == "CR":
        if nt in (None, "CR"):
            rules.append("OV-CR")
            return "CR"
        if nt == "NON-CR":
            rules.append("OV-PR-CR-NONCR")
            return "PR"
        rules.append("OV-PR-CR-NE")
        return "PR"
    if target == "PR":
        rules.append("OV-PR")
        return "PR"
    if target == "SD":
        rules.append("OV-SD")
        return "SD"
    rules.append("OV-NE")
    return "NE"


def _best(
    tps: list[Assessment], base: date, confirm: bool, min_sd_days: int, confirm_days: int, rules: list[str]
) -> tuple[str, bool | None]:
    seq = []
    for a in tps:
        seq.append(a)
        if a.overall == "PD":
            if a is not tps[-1]:
                rules.append("BOR-AFTER-PD")
            break
    resp = [a.overall for a in seq]
    sd_like = ("CR", "PR", "SD", "NON-CR/NON-PD")
    sd_met = any(r in sd_like and (a.date - base).days >= min_sd_days for a, r in zip(seq, resp, strict=True))

    def confirmed(first: tuple[str, ...], second: tuple[str, ...]) -> bool:
        found_short = False
        for i, a in enumerate(seq):
            if a.overall not in first:
                continue
            for b in seq[i + 1 :]:
                if b.overall in second:
                    if (b.date - a.date).days >= confirm_days:
                        return True
                    found_short = True
        if found_short:
            rules.append("BOR-CONFIRM-INTERVAL")
        return False

    has_cr, has_pr = "CR" in resp, "PR" in resp
    if not confirm:
        rules.append("BOR-UNCONFIRMED")
        if has_cr or has_pr:
            best = "CR" if has_cr else "PR"
            conf = confirmed(("CR",), ("CR",)) if has_cr else confirmed(("CR", "PR"), ("CR", "PR"))
            return best, conf
    else:
        if has_cr and confirmed(("CR",), ("CR",)):
            rules.append("BOR-CONFIRMED-CR")
            return "CR", True
        if (has_cr or has_pr) and confirmed(("CR", "PR"), ("CR", "PR")):
            rules.append("BOR-CONFIRMED-PR")
            return "PR", True
    if sd_met:
        if has_cr or has_pr:
            rules.append("BOR-UNCONFIRMED-SD")
        rules.append("BOR-SD-MIN")
        only_nt = all(a.target is None for a in seq)
        return ("NON-CR/NON-PD" if only_nt else "SD"), (False if (has_cr or has_pr) else None)
    if any(r in sd_like for r in resp):
        rules.append("BOR-SD-NOT-MET")
    unconf = False if (has_cr or has_pr) else None
    return ("PD" if "PD" in resp else "NE"), unconf


def assess_patient(
    patient: str,
    rows: list[dict[str, Any]],
    confirm: bool = True,
    min_sd_days: int = 42,
    confirm_days: int = 28,
    irecist: bool = False,
    cbr_weeks: float = 24.0,
) -> PatientResponse:
    dates = sorted({r["date"] for r in rows})
    base_date = dates[0]
    base = [r for r in rows if r["date"] == base_date]
    targets = {r["lesion_id"]: r for r in base if r["kind"] == "target"}
    nontargets = {r["lesion_id"] for r in base if r["kind"] == "non-target"}
    base_sod = sum(r["diameter"] for r in targets.values()) if targets else None
    # new lesions: first sight, and whether ever unequivocal
    new_first: dict[str, date] = {}
    new_unequivocal: dict[str, date] = {}
    for r in rows:
        if r["kind"] == "new":
            new_first[r["lesion_id"]] = min(new_first.get(r["lesion_id"], r["date"]), r["date"])
            if r["status"] in (None, "unequivocal", "increase"):
                new_unequivocal[r["lesion_id"]] = min(new_unequivocal.get(r["lesion_id"], r["date"]), r["date"])
    nadir = base_sod
    prior_target_cr = False
    response_dates: list[date] = []  # time points with overall PR or CR, for the PR hold
    pr_held = False
    tps: list[Assessment] = []
    all_rules: list[str] = []
    for d in dates[1:]:
        at = {r["lesion_id"]: r for r in rows if r["date"] == d}
        used: set[str] = set()
        rules: list[str] = []
        target = sod = pct_b = pct_n = None
        if targets:
            vals = {lid: (_measure(at[lid], used) if lid in at and at[lid]["kind"] == "target" else None) for lid in targets}
            known = [v for v in vals.values() if v is not None]
            partial = sum(known)
            assert nadir is not None and base_sod is not None
            complete = len(known) == len(vals)
            gone = all((v is not None and (v < 10 if targets[lid]["nodal"] else v == 0)) for lid, v in vals.items())
            if complete:
                sod = partial
                pct_b = 100.0 * (sod - base_sod) / base_sod
                pct_n = 100.0 * (sod - nadir) / nadir if nadir > 0 else None
            if prior_target_cr and complete and not gone:
                target = "PD"
                rules.append("T-REAPPEAR")
            elif partial >= 1.2 * nadir and partial - nadir >= 5:
                target = "PD"  # even with a target missing, the measured ones already show PD
                rules.append("T-PD")
            elif not complete:
                target = "NE"
                rules.append("T-NE")
            elif gone:
                target = "CR"
                rules.append("T-CR")
            elif sod is not None and sod <= 0.7 * base_sod:
                target = "PR"
                rules.append("T-PR")
            elif pr_held:
                target = "PR"
                rules.append("T-PR-HOLD")
            else:
                target = "SD"
                rules.append("T-SD")
            if sod is not None:
                nadir = min(nadir, sod)
            prior_target_cr = prior_target_cr or target == "CR"
        nt = None
        if nontargets:
            st = [at[lid]["status"] if lid in at and at[lid]["kind"] == "non-target" else "ne" for lid in nontargets]
            if "progression" in st or "increase" in st:
                nt, rule = "PD", "NT-PD"
            elif "ne" in st:
                nt, rule = "NE", "NT-NE"
            elif all(s == "absent" for s in st):
                nt, rule = "CR", "NT-CR"
            else:
                nt, rule = "NON-CR", "NT-NONCR"
            rules.append(rule)
        new = False
        for lid, first in new_first.items():
            if lid in new_unequivocal and d >= first:
                new = True  # unequivocal now, or equivocal now and confirmed later: PD from first sight
                rules.append("NEW-PD" if d >= new_unequivocal[lid] else "NEW-EQUIVOCAL")
            elif lid not in new_unequivocal and lid in at:
                rules.append("NEW-EQUIVOCAL")
        overall = _overall(target, nt, new, rules)
        if overall == "PD":
            pr_held = False
            response_dates = []
        elif overall in ("PR", "CR"):
            pr_held = pr_held or not confirm or any((d - r).days >= confirm_days for r in response_dates)
            response_dates.append(d)
        rules = sorted(used) + rules
        tps.append(
            Assessment(
                d,
                sod,
                pct_b,
                pct_n,
                target,
                {"NON-CR": "NON-CR/NON-PD"}.get(nt or "", nt),
                new,
                overall,
                list(dict.fromkeys(rules)),
            )
        )
        all_rules += rules
    bor_rules: list[str] = []
    best_c, conf_c = _best(tps, base_date, True, min_sd_days, confirm_days, bor_rules if confirm else [])
    best_u, conf_u = _best(tps, base_date, False, min_sd_days, confirm_days, [] if confirm else bor_rules)
    best, conf = (best_c, conf_c) if confirm else (best_u, conf_u)
    # waterfall: best (most negative) % change over evaluable assessments up to the first PD
    pct = []
    for a in tps:
        if a.pct_change_baseline is not None:
            pct.append(a.pct_change_baseline)
        if a.overall == "PD":
            break
    # documented SD duration (weeks from baseline to the last CR/PR/SD/non-CR-non-PD time point before PD)
    sd_weeks = None
    for a in tps:
        if a.overall == "PD":
            break
        if a.overall in ("CR", "PR", "SD", "NON-CR/NON-PD"):
            sd_weeks = (a.date - base_date).days / 7.0
    benefit = None
    if best in ("CR", "PR"):
        benefit = True
    elif best in ("SD", "NON-CR/NON-PD"):
        benefit = sd_weeks is not None and sd_weeks >= cbr_weeks
        bor_rules.append("BOR-CBR")
    elif best in ("PD", "NE"):
        benefit = False
    ir = None
    if irecist:
        from nerasense.stats.irecist import assess_irecist

        ir = assess_irecist(rows, tps, base_date, confirm, min_sd_days, confirm_days)
    return PatientResponse(
        patient,
        base_date,
        base_sod,
        best,
        best_u,
        conf,
        min(pct) if pct else None,
        tps,
        list(dict.fromkeys(all_rules + bor_rules)),
        ir,
        sd_weeks,
        benefit,
    )


def assess(
    df: Any,
    confirm: bool = True,
    min_sd_days: int = 42,
    confirm_days: int = 28,
    irecist: bool = False,
    cbr_weeks: float = 24.0,
) -> dict[str, PatientResponse]:
    """RECIST 1.1 per patient from a lesion table (see the module docstring for the columns).

    ``confirm=True`` (default; single-arm trials with response as primary endpoint, Table 3) requires
    CR/PR to be confirmed ≥ ``confirm_days`` later; ``confirm=False`` gives the best time-point response
    (randomised trials). ``best_response_unconfirmed`` is always returned beside it. ``irecist=True``
    adds the iRECIST time points and iBOR (:mod:`nerasense.stats.irecist`, Seymour 2017) as ``irecist``.
    ``sd_weeks`` is the documented SD duration and ``clinical_benefit`` is CR/PR or SD lasting
    ≥ ``cbr_weeks`` (rule BOR-CBR).
    """
    if not cbr_weeks > 0:
        from nerasense.errors import InputError, Problem

        raise InputError(Problem("cbr_weeks", cbr_weeks, "a positive number of weeks (24 in SUMMIT)"))
    rows = _parse(df)
    bad = ProblemCollector()
    by_patient: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_patient.setdefault(r["patient"], []).append(r)
    seen: set[tuple[str, date, str]] = set()
    for r in rows:
        key = (r["patient"], r["date"], r["lesion_id"])
        if key in seen:
            bad.add("lesion_id", r["lesion_id"], "one row per lesion per date", where=f"row {r['row']}")
        seen.add(key)
    for p, prow in by_patient.items():
        first = min(r["date"] for r in prow)
        _check_baseline(p, [r for r in prow if r["date"] == first], bad)
    bad.raise_if_any()
    return {
        p: assess_patient(p, prow, confirm, min_sd_days, confirm_days, irecist, cbr_weeks)
        for p, prow in sorted(by_patient.items())
    }


__all__ = ["RULES", "Assessment", "PatientResponse", "assess", "assess_patient"]
