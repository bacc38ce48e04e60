"""iRECIST on top of the RECIST 1.1 engine: iUPD / iCPD, the bar reset, new-lesion sums, iBOR.

Source: Seymour L et al., "iRECIST: guidelines for response criteria for use in trials testing
immunotherapeutics", Lancet Oncol 2017;18:e143–e152 (Table 2 time-point responses, Table 3 iBOR), and
the EORTC iRECIST questions and clarifications (recist.eortc.org/irecist; FAQ pages named per rule).
Every rule is a row of :data:`RULES`; each i-time point records the rules it applied.

The RECIST 1.1 time-point categories (target vs nadir, non-target, new lesions) come from
:func:`nerasense.stats.recist.assess_patient`; this module adds, per the guideline:

* RECIST 1.1 PD in any category is **iUPD**. The next assessment 4–8 weeks later confirms it as **iCPD**
  if the target sum rose ≥ 5 mm over the sum at iUPD, a non-target lesion increased further, the
  new-lesion target sum rose ≥ 5 mm, a new non-target lesion increased, another new lesion appeared, or
  a category that was not progressing now meets RECIST 1.1 PD. Increases add up across assessments
  (4 mm + 2 mm ⇒ iCPD): the reference is the sum at the iUPD, not the previous assessment.
* If progression criteria are still met without further increase the time point stays iUPD; if none
  is met (iSD, iPR, iCR) the bar resets and a later progression is a new iUPD.
* Input vocabulary added to the lesion table: ``status=increase`` on a non-target or new lesion means
  "further increase since the last assessment" (EORTC FAQ category INCLA; need not be unequivocal). In
  plain RECIST 1.1 it counts as progression (it is used after progression has been recorded).
  New lesions carry ``diameter`` (and ``organ``/``nodal``) so that measurable ones become new targets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

#: rule id → (what it says, where it is)
RULES: dict[str, tuple[str, str]] = {
    "IR-IUPD": ("RECIST 1.1 PD in any category (target, non-target, new lesion) is iUPD, unconfirmed", "Seymour 2017 Table 2"),
    "IR-NEW-TARGET": (
        "measurable new lesions (≥ 10 mm; nodes ≥ 15 mm short axis) are new-lesion targets, up to 5 and ≤ 2 per organ, "
        "summed apart from the original targets; the rest are new-lesion non-targets",
        "Seymour 2017, new lesions",
    ),
    "IR-CPD-TARGET": ("target sum ≥ 5 mm above the sum at iUPD confirms iCPD", "Seymour 2017 Table 2"),
    "IR-CPD-NONTARGET": ("any further increase of non-target disease after iUPD confirms iCPD", "Table 2; EORTC iRECIST FAQ"),
    "IR-CPD-NEW-SUM": ("new-lesion target sum ≥ 5 mm above its value at iUPD confirms iCPD", "Table 2; EORTC FAQ new lesions"),
    "IR-CPD-NEW-NT": ("any increase of a new-lesion non-target confirms iCPD", "Table 2; EORTC FAQ new lesions"),
    "IR-CPD-ANOTHER-NEW": ("another new lesion after iUPD confirms iCPD", "Table 2; EORTC FAQ new lesions"),
    "IR-CPD-OTHER": (
        "RECIST 1.1 PD newly met in a category that was not progressing confirms iCPD",
        "EORTC iRECIST FAQ (non-target iUPD)",
    ),
    "IR-ADDITIVE": (
        "increases add up from the iUPD reference: 4 mm then 2 mm is iCPD",
        "EORTC FAQ 'How do new lesions define progression?'",
    ),
    "IR-IUPD-PERSISTS": ("progression criteria still met without further increase: remains iUPD", "Table 2"),
    "IR-RESET": ("iSD, iPR or iCR after iUPD resets the bar; a later progression is a new iUPD", "Seymour 2017, Table 2"),
    "IR-CONFIRM-EARLY": (
        "an assessment < 4 weeks after iUPD confirms only by another new lesion; otherwise it stays iUPD",
        "EORTC iRECIST FAQ (imaging < 4 weeks)",
    ),
    "IR-CONFIRM-LATE": ("confirmation more than 8 weeks after iUPD is outside the 4–8 week window (flagged)", "Seymour 2017"),
    "IR-AFTER-ICPD": ("assessments after iCPD do not count", "Seymour 2017 Table 3"),
    "IR-BOR-RESPONSE": ("iBOR is the best of iCR, iPR, iSD up to iCPD (confirmation and minimum SD as RECIST 1.1)", "Table 3"),
    "IR-BOR-PROGRESSION": ("no iCR/iPR/iSD: iBOR is iCPD if confirmed, else iUPD, else NE", "Table 3"),
}

_WINDOW = (28, 56)  # days after iUPD: confirmation 4–8 weeks later (Seymour 2017)


@dataclass
class ITimePoint:
    date: date
    response: str  # iCR, iPR, iSD, iNON-CR/NON-PD, iUPD, iCPD, NE
    new_target_sum: float | None
    rules: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "response": self.response,
            "new_target_sum": self.new_target_sum,
            "rules": self.rules,
        }


@dataclass
class IRecistResponse:
    best_response: str  # iBOR
    confirmed: bool | None
    iupd_dates: list[date]
    icpd_date: date | None
    assessments: list[ITimePoint]
    rules: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "best_response": self.best_response,
            "confirmed": self.confirmed,
            "iupd_dates": [d.isoformat() for d in self.iupd_dates],
            "icpd_date": None if self.icpd_date is None else self.icpd_date.isoformat(),
            "assessments": [a.as_dict() for a in self.assessments],
            "rules": self.rules,
        }


def _new_lesions(rows: list[dict[str, Any]]) -> tuple[dict[str, date], set[str], list[str]]:
    """First sight of each new lesion (equivocal ones only if later unequivocal) and the new targets."""
    first: dict[str, date] = {}
    real: set[str] = set()
    for r in rows:
        if r["kind"] == "new":
            first[r["lesion_id"]] = min(first.get(r["lesion_id"], r["date"]), r["date"])
            if r["status"] != "equivocal":
                real.add(r["lesion_id"])
    first = {k: v for k, v in first.items() if k in real}
    at_first = {
        r["lesion_id"]: r for r in rows if r["kind"] == "new" and r["lesion_id"] in first and r["date"] == first[r["lesion_id"]]
    }
    candidates = []
    for lid, r in at_first.items():
        d = r["diameter"]
        if d is not None and not r["too_small"] and not r["disappeared"] and d >= (15 if r["nodal"] else 10):
            candidates.append((first[lid], -d, lid, "lymph node" if r["nodal"] else (r["organ"] or "")))
    targets: list[str] = []
    per_organ: dict[str, int] = {}
    for _, _, lid, organ in sorted(candidates):
        if len(targets) < 5 and per_organ.get(organ, 0) < 2:
            targets.append(lid)
            per_organ[organ] = per_organ.get(organ, 0) + 1
    return first, real, targets


def assess_irecist(
    rows: list[dict[str, Any]], recist_tps: list[Any], base_date: date, confirm: bool, min_sd_days: int, confirm_days: int
) -> IRecistResponse:
    """iRECIST time points and iBOR for one patient from its parsed rows and RECIST 1.1 assessments."""
    first, _, new_targets = _new_lesions(rows)
    by_date: dict[date, dict[str, dict[str, Any]]] = {}
    for r in rows:
        by_date.setdefault(r["date"], {})[r["lesion_id"]] = r
    all_rules: list[str] = ["IR-NEW-TARGET"] if new_targets else []
    tps: list[ITimePoint] = []
    iupd: dict[str, Any] | None = None  # the open iUPD: date, categories, reference sums, new lesions seen
    iupd_dates: list[date] = []
    icpd: date | None = None
    for a in recist_tps:
        if icpd is not None:
            all_rules.append("IR-AFTER-ICPD")
            break
        d = a.date
        at = by_date.get(d, {})
        rules: list[str] = []
        present_new = {lid for lid in first if first[lid] <= d and not (lid in at and at[lid]["disappeared"])}
        nt_increase = any(r["kind"] == "non-target" and r["status"] == "increase" for r in at.values())
        new_nt_increase = any(
            r["kind"] == "new" and r["status"] == "increase" and r["lesion_id"] not in new_targets for r in at.values()
        )
        seen_targets = [lid for lid in new_targets if first[lid] <= d]
        new_sum: float | None = None
        if seen_targets and all(lid in at for lid in seen_targets):
            new_sum = sum(
                0.0 if at[lid]["disappeared"] else (5.0 if at[lid]["too_small"] else float(at[lid]["diameter"] or 0.0))
                for lid in seen_targets
            )
        cats = {
            c for c, on in (("target", a.target == "PD"), ("non-target", a.non_target == "PD"), ("new", bool(present_new))) if on
        }
        if iupd is None:
            if cats:
                response = "iUPD"
                rules.append("IR-IUPD")
                iupd = {
                    "date": d,
                    "cats": cats,
                    "sod": a.sod,
                    "new_sum": new_sum,
                    "new_seen": {k for k in first if first[k] <= d},
                }
                iupd_dates.append(d)
            else:
                response = _i(_without_new(a))
        else:
            days = (d - iupd["date"]).days
            another = bool({k for k in first if first[k] <= d} - iupd["new_seen"])
            why: list[str] = []
            if another:
                why.append("IR-CPD-ANOTHER-NEW")
            if "target" in iupd["cats"] and a.sod is not None and iupd["sod"] is not None and a.sod - iupd["sod"] >= 5:
                why.append("IR-CPD-TARGET")
            if "non-target" in iupd["cats"] and nt_increase:
                why.append("IR-CPD-NONTARGET")
            if new_sum is not None and iupd["new_sum"] is not None and new_sum - iupd["new_sum"] >= 5:
                why.append("IR-CPD-NEW-SUM")
            if "new" in iupd["cats"] and new_nt_increase:
                why.append("IR-CPD-NEW-NT")
            if cats - iupd["cats"] - {"new"}:
                why.append("IR-CPD-OTHER")
            if why and days < _WINDOW[0] and "IR-CPD-ANOTHER-NEW" not in why:
                response = "iUPD"
                rules.append("IR-CONFIRM-EARLY")
            elif why:
                response = "iCPD"
                rules += why
                icpd = d
                if days > _WINDOW[1]:
                    rules.append("IR-CONFIRM-LATE")
                if {"IR-CPD-TARGET", "IR-CPD-NEW-SUM"} & set(why) and any(
                    "IR-IUPD-PERSISTS" in t.rules and t.date > iupd["date"] for t in tps
                ):
                    rules.append("IR-ADDITIVE")  # the increase was reached over more than one assessment
            elif cats:
                response = "iUPD"
                rules.append("IR-IUPD-PERSISTS")
            else:
                response = _i(_without_new(a))
                rules.append("IR-RESET")
                iupd = None
        tps.append(ITimePoint(d, response, new_sum, rules))
        all_rules += rules
    best, conf = _ibor(tps, base_date, confirm, min_sd_days, confirm_days, all_rules)
    return IRecistResponse(best, conf, iupd_dates, icpd, tps, list(dict.fromkeys(all_rules)))


def _without_new(a: Any) -> str | None:
    """RECIST 1.1 overall response (Table 1/2) of a time point whose new lesions have resolved."""
    from nerasense.stats.recist import _overall

    if a.overall != "PD":
        return a.overall
    nt = {"NON-CR/NON-PD": "NON-CR"}.get(a.non_target or "", a.non_target)
    return _overall(a.target, nt, False, [])


def _i(overall: str | None) -> str:
    return "NE" if overall in (None, "NE") else f"i{overall}"


def _ibor(
    tps: list[ITimePoint], base: date, confirm: bool, min_sd_days: int, confirm_days: int, rules: list[str]
) -> tuple[str, bool | None]:
    """iBOR (Seymour 2017 Table 3): best response up to iCPD; responses after an iUPD count."""
    resp = [t.response for t in tps]

    def confirmed(first: tuple[str, ...], second: tuple[str, ...]) -> bool:
        return any(
            a.response in first and b.response in second and (b.date - a.date).days >= confirm_days
            for i, a in enumerate(tps)
            for b in tps[i + 1 :]
        )

    has_cr, has_pr = "iCR" in resp, "iPR" in resp
    if has_cr and (not confirm or confirmed(("iCR",), ("iCR",))):
        rules.append("IR-BOR-RESPONSE")
        return "iCR", confirmed(("iCR",), ("iCR",))
    if (has_cr or has_pr) and (not confirm or confirmed(("iCR", "iPR"), ("iCR", "iPR"))):
        rules.append("IR-BOR-RESPONSE")
        return "iPR", confirmed(("iCR", "iPR"), ("iCR", "iPR"))
    sd_like = ("iCR", "iPR", "iSD", "iNON-CR/NON-PD")
    sd = [t for t in tps if t.response in sd_like and (t.date - base).days >= min_sd_days]
    unconf = False if (has_cr or has_pr) else None
    if sd:
        rules.append("IR-BOR-RESPONSE")
        return ("iNON-CR/NON-PD" if all(t.response == "iNON-CR/NON-PD" for t in sd) else "iSD"), unconf
    rules.append("IR-BOR-PROGRESSION")
    if "iCPD" in resp:
        return "iCPD", unconf
    return ("iUPD" if "iUPD" in resp else "NE"), unconf


__all__ = ["RULES", "IRecistResponse", "ITimePoint", "assess_irecist"]
