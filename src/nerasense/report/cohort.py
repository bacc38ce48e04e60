"""``cohort report``: a paper-style cohort analysis from a YAML description, as one self-contained HTML page.

The YAML names the data file and the columns; every analysis it asks for is run with the conventions
documented in :mod:`nerasense.stats`, and every analysis the data cannot support is *said*, with the
reason (e.g. overall-survival status unknown for most patients), instead of being drawn anyway.

Example (``examples/stats/summit_biliary.yaml``)::

    title: SUMMIT neratinib basket — HER2-mutant biliary tract cohort (cBioPortal)
    data: {path: ../../../shared/data/summit-biliary/data_clinical_patient.txt, comment: "#", patient: PATIENT_ID}
    response: {best_response: "Best Overall Response (BOR)", p0: 0.1}
    survival: {time: OS_MONTHS, status: OS_STATUS, event_values: [DECEASED], censored_values: [LIVING], unit: months}
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nerasense.errors import InputError, Problem
from nerasense.safe_io import confine, decode, load_yaml, read_input


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataSpec(_Strict):
    path: str
    comment: str | None = None
    patient: str


class ResponseSpec(_Strict):
    best_response: str
    exclude_ne: bool = False
    p0: float | None = Field(default=None, gt=0, lt=1)
    level: float = Field(default=0.95, gt=0, lt=1)


class SurvivalSpec(_Strict):
    time: str
    status: str
    event_values: list[str]
    censored_values: list[str]
    unit: str = "months"
    group: str | None = None
    ci: str = "log"
    landmarks: list[float] = []
    min_known_fraction: float = Field(default=0.8, gt=0, le=1)


class LesionSpec(_Strict):
    path: str
    confirm: bool = True


class SwimmerSpec(_Strict):
    """Swimmer plot. Without ``duration`` the bars come from the lesion table (RECIST assessments)."""

    duration: str | None = None  # column of the data table: time on treatment, in ``unit``
    ongoing: str | None = None  # column of the data table; a value in ``ongoing_values`` draws an arrow
    ongoing_values: list[str] = []
    unit: Literal["days", "weeks", "months"] = "months"


class AESpec(_Strict):
    path: str
    n_patients: int | None = None


class SubgroupSpec(_Strict):
    treatment: str
    variables: list[str]


class CohortSpec(_Strict):
    title: str
    description: str = ""
    data: DataSpec
    response: ResponseSpec | None = None
    survival: SurvivalSpec | None = None
    lesions: LesionSpec | None = None
    adverse_events: AESpec | None = None
    subgroups: SubgroupSpec | None = None
    swimmer: SwimmerSpec | None = None


def load_spec(path: str | Path) -> CohortSpec:
    """The cohort YAML, read with the limits of :mod:`nerasense.safe_io` (regular file, size, UTF-8, no tags,
    bounded aliases and nesting, each key once)."""
    p = Path(path)
    raw = load_yaml(decode(read_input(p, "cohort YAML", field="cohort file", kind="case_file"), str(p),
                           field="cohort file"), p.name, field="cohort file")
    try:
        return CohortSpec.model_validate(raw)
    except ValidationError as exc:
        raise InputError(
            [Problem(".".join(map(str, e["loc"])), e.get("input"), e["msg"], where=str(p)) for e in exc.errors()]
        ) from exc


def _img(fig: Any, alt: str) -> str:
    from nerasense.report.figures import to_png

    data = base64.b64encode(to_png(fig)).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _table(header: list[str], rows: list[list[Any]]) -> str:
    h = "".join(f"<th>{html.escape(str(c))}</th>" for c in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(x: float | None) -> str:
    return "NR" if x is None else f"{x:.3g}"


_DAYS_PER = {"days": 1.0, "weeks": 7.0, "months": 365.25 / 12}  # a month is 365.25/12 days (R lubridate, SAS)


def _swimmer_rows(spec: CohortSpec, df: Any, recist: dict[str, Any] | None, limits: list[str]) -> list[dict[str, Any]]:
    """Bars for :func:`~nerasense.report.figures.swimmer_figure`: from a time-on-treatment column, or from the
    RECIST assessments (baseline to last assessment; markers at the first CR/PR and at PD; arrow if no PD)."""
    sw = spec.swimmer
    assert sw is not None
    per = _DAYS_PER[sw.unit]
    if sw.duration is not None:
        missing = [c for c in (sw.duration, sw.ongoing) if c is not None and c not in df.columns]
        if missing:
            allowed = f"a column of the table ({', '.join(map(str, df.columns))})"
            raise InputError([Problem("swimmer column", c, allowed) for c in missing])
        out = []
        for _, r in df.iterrows():
            pid = str(r[spec.data.patient])
            try:
                dur = float(r[sw.duration])
            except (TypeError, ValueError):
                dur = float("nan")
            if dur != dur:
                continue
            row: dict[str, Any] = {"patient": pid, "duration": dur, "unit": sw.unit, "markers": []}
            row["ongoing"] = sw.ongoing is not None and str(r[sw.ongoing]).strip() in sw.ongoing_values
            if recist is not None and pid in recist:
                row["best_response"] = recist[pid].best_response
            elif spec.response is not None:
                row["best_response"] = str(r[spec.response.best_response]).strip().upper()
            out.append(row)
        if len(out) < len(df):
            limits.append(f"{len(df) - len(out)} patients without {sw.duration} are not in the swimmer plot.")
        return out
    if recist is None:
        limits.append("Swimmer plot needs a time-on-treatment column (swimmer.duration) or lesion measurements; not drawn.")
        return []
    out = []
    for pid, r in recist.items():
        markers, ongoing = [], True
        first_resp = next((a for a in r.assessments if a.overall in ("CR", "PR")), None)
        pd_at = next((a for a in r.assessments if a.overall == "PD"), None)
        if first_resp is not None and (pd_at is None or first_resp.date < pd_at.date):
            markers.append(((first_resp.date - r.baseline_date).days / per, first_resp.overall))
        if pd_at is not None:
            markers.append(((pd_at.date - r.baseline_date).days / per, "PD"))
            ongoing = False
        last = r.assessments[-1].date if r.assessments else r.baseline_date
        out.append(
            {
                "patient": pid,
                "duration": (last - r.baseline_date).days / per,
                "unit": sw.unit,
                "best_response": r.best_response,
                "ongoing": ongoing,
                "markers": markers,
            }
        )
    return out


def build_report(spec_path: str | Path, allowed: Sequence[Path] = ()) -> tuple[str, dict[str, Any]]:
    """Run the analyses the YAML asks for; return (HTML page, JSON-ready payload).

    The tables the YAML names must lie in its folder or one of ``allowed`` (``confine``): a cohort file
    cannot make the command read any other file on the machine."""
    from nerasense._version import software_version
    from nerasense.stats import response as resp
    from nerasense.stats.tables import read_table

    spec_path = Path(spec_path)
    spec = load_spec(spec_path)
    base = spec_path.parent
    df = read_table(confine(spec.data.path, base, field="data.path", allowed=allowed, where=str(spec_path)),
                    comment=spec.data.comment)
    if spec.data.patient not in df.columns:
        raise InputError(Problem("data.patient", spec.data.patient, f"a column of the table ({', '.join(map(str, df.columns))})"))
    n = len(df)
    payload: dict[str, Any] = {"title": spec.title, "n_patients": n, "sections": {}, "not_supported": []}
    parts: list[str] = []
    limits: list[str] = payload["not_supported"]

    if spec.response:
        col = spec.response.best_response
        if col not in df.columns:
            raise InputError(Problem("response.best_response", col, f"a column of the table ({', '.join(map(str, df.columns))})"))
        bor = df[col].astype(str).str.strip().str.upper()
        if spec.response.exclude_ne:
            bor = bor[bor != "NE"]
        summ = resp.summarise_best_responses(list(bor), level=spec.response.level)
        sec: dict[str, Any] = summ.as_dict()
        counts = summ.counts
        lines = [[k, v, _pct(v / summ.evaluable)] for k, v in counts.items() if v]
        o, d = summ.orr, summ.dcr
        lvl = f"{100 * spec.response.level:g}%"
        text = (
            f"<p>ORR {o.responders}/{o.evaluable} = {_pct(o.rate)} ({lvl} CI {_pct(o.ci_low)}–{_pct(o.ci_high)}, "
            f"Clopper–Pearson exact); DCR {d.responders}/{d.evaluable} = {_pct(d.rate)} "
            f"({_pct(d.ci_low)}–{_pct(d.ci_high)}). Denominator: "
            f"{'response-evaluable patients (NE excluded)' if spec.response.exclude_ne else 'all patients, NE included'}.</p>"
        )
        if spec.response.p0 is not None:
            p = resp.binomial_test(o.responders, o.evaluable, spec.response.p0, "greater")
            sec["p0"], sec["p_one_sided"] = spec.response.p0, p
            text += f"<p>Exact one-sided binomial test of ORR &gt; p0 = {spec.response.p0:g}: p = {p:.4g}.</p>"
        if counts["CR"] + counts["PR"] and "NE" in counts and counts["NE"]:
            text += (
                f"<p>{counts['NE']} patient(s) were not evaluable (NE); confirmation status of the responses "
                "is not recorded in this table, so the ORR is as reported by the source.</p>"
            )
        parts.append("<h2>Best overall response</h2>" + _table(["best response", "n", "%"], lines) + text)
        payload["sections"]["response"] = sec

    if spec.survival:
        s = spec.survival
        missing = [c for c in (s.time, s.status) if c not in df.columns]
        if missing:
            raise InputError([Problem("survival column", c, "a column of the table") for c in missing])
        status = df[s.status].astype(str).str.strip()
        known = status.isin(s.event_values + s.censored_values)
        frac = float(known.mean()) if n else 0.0
        sec = {
            "known_status": int(known.sum()),
            "n": n,
            "known_fraction": frac,
            "status_values": {str(k): int(v) for k, v in status.value_counts().items()},
        }
        if frac < s.min_known_fraction:
            msg = (
                f"Survival ({s.time}/{s.status}) is not analysed: the status is known for only {int(known.sum())} of {n} "
                f"patients ({_pct(frac)}; values: {', '.join(f'{k} {v}' for k, v in sec['status_values'].items())}). "
                "A Kaplan–Meier curve or median on the known subset would be biased (status is not missing at random), "
                f"and {s.time} without a status cannot be read as follow-up."
            )
            limits.append(msg)
            sec["analysed"] = False
            parts.append(f"<h2>Survival</h2><p class='warn'>{html.escape(msg)}</p>")
        else:
            from nerasense.report.figures import km_figure
            from nerasense.stats.survival import km_by_group, logrank
            from nerasense.stats.tables import survival_columns

            sub = df[known].copy()
            sub["_event"] = sub[s.status].astype(str).str.strip().isin(s.event_values).astype(int)
            cols = survival_columns(sub, s.time, "_event", group=s.group)
            fits = km_by_group(cols, "group" if s.group else None, s.ci)
            sec["analysed"] = True
            sec["groups"] = {k: v.summary() for k, v in fits.items()}
            rows = [
                [k, v.n, v.events, _fmt(v.median), f"{_fmt(v.median_ci_low)}–{_fmt(v.median_ci_high)}"] for k, v in fits.items()
            ]
            ann = ""
            if s.group and len(fits) > 1:
                lr = logrank(cols["time"], cols["event"], cols["group"])
                sec.update(lr.as_dict())
                ann = f"log-rank p = {lr.p:.3g}"
            if s.landmarks:
                sec["landmarks"] = {k: v.at(s.landmarks) for k, v in fits.items()}
            fig = km_figure(fits, xlabel=f"{s.time} ({s.unit})", annotation=ann)
            parts.append(
                "<h2>Survival</h2>"
                + _table(["group", "n", "events", "median", f"95% CI ({s.ci})"], rows)
                + _img(fig, "Kaplan–Meier")
            )
            if known.sum() < n:
                limits.append(f"{n - int(known.sum())} patients with unknown survival status were excluded from the KM analysis.")
        payload["sections"]["survival"] = sec

    recist_res: dict[str, Any] | None = None
    if spec.lesions:
        from nerasense.report.figures import waterfall_figure
        from nerasense.stats.recist import assess

        res = assess(read_table(confine(spec.lesions.path, base, field="lesions.path", allowed=allowed,
                                    where=str(spec_path))), confirm=spec.lesions.confirm)
        recist_res = res
        sec = {
            p: {"best_response": r.best_response, "best_pct_change": r.best_pct_change, "confirmed": r.confirmed}
            for p, r in res.items()
        }
        fig = waterfall_figure(
            {p: r.best_pct_change for p, r in res.items() if r.best_pct_change is not None},
            {p: r.best_response for p, r in res.items()},
        )
        rows = [
            [
                p,
                v["best_response"],
                "" if v["best_pct_change"] is None else f"{v['best_pct_change']:+.1f}%",
                {True: "yes", False: "no", None: ""}[v["confirmed"]],
            ]
            for p, v in sec.items()
        ]
        parts.append(
            "<h2>RECIST 1.1 (from lesion measurements)</h2>"
            + _table(["patient", "best response", "best change", "confirmed"], rows)
            + _img(fig, "waterfall")
        )
        payload["sections"]["recist"] = sec
    elif spec.response:
        limits.append(
            "No lesion measurements: best % change (waterfall) and confirmation cannot be derived; "
            "the best overall response is taken as recorded."
        )

    if spec.swimmer:
        rows_sw = _swimmer_rows(spec, df, recist_res, limits)
        if rows_sw:
            from nerasense.report.figures import swimmer_figure

            payload["sections"]["swimmer"] = rows_sw
            fig = swimmer_figure(rows_sw, xlabel=f"Time on study ({spec.swimmer.unit})")
            parts.append("<h2>Swimmer plot</h2>" + _img(fig, "swimmer plot"))

    if spec.adverse_events:
        from nerasense.stats.adverse import ae_table
        from nerasense.stats.adverse import as_dicts as ae_dicts

        rows_ae = ae_table(read_table(confine(spec.adverse_events.path, base, field="adverse_events.path",
                                          allowed=allowed, where=str(spec_path))), spec.adverse_events.n_patients)
        payload["sections"]["adverse_events"] = ae_dicts(rows_ae)
        parts.append(
            "<h2>Adverse events (worst CTCAE grade per patient)</h2>"
            + _table(
                ["term", "any grade", "G1", "G2", "G3", "G4", "G5", "G≥3 %"],
                [[r.term, r.any_grade, *r.grade.values(), f"{r.pct_3_plus:.1f}"] for r in rows_ae],
            )
        )

    if spec.subgroups and spec.survival and payload["sections"].get("survival", {}).get("analysed"):
        from nerasense.report.figures import forest_figure
        from nerasense.stats.subgroups import as_dicts, subgroup_analysis
        from nerasense.stats.tables import survival_columns

        s = spec.survival
        sub = df[df[s.status].astype(str).str.strip().isin(s.event_values + s.censored_values)].copy()
        sub["_event"] = sub[s.status].astype(str).str.strip().isin(s.event_values).astype(int)
        cols = survival_columns(sub, s.time, "_event", covariates=[spec.subgroups.treatment])
        for v in spec.subgroups.variables:
            cols[v] = sub[v].to_numpy()
        srows, tests = subgroup_analysis(cols, spec.subgroups.treatment, spec.subgroups.variables)
        payload["sections"]["subgroups"] = as_dicts(srows, tests)
        fig = forest_figure(as_dicts(srows, tests)["subgroups"], {t.variable: t.p for t in tests})
        parts.append("<h2>Subgroups</h2>" + _img(fig, "forest plot"))
    elif spec.subgroups:
        limits.append("Subgroup hazard ratios need an analysable survival endpoint; not done.")

    lim = "".join(f"<li>{html.escape(m)}</li>" for m in limits) or "<li>none noted</li>"
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(spec.title)}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:.2em .6em;text-align:left}}
.warn{{background:#fff3cd;padding:.5em}}img{{max-width:100%}}</style>
</head><body><h1>{html.escape(spec.title)}</h1>
<p><strong>Research use only.</strong> nerasense {html.escape(software_version())}; data: {html.escape(spec.data.path)}
({n} patients). {html.escape(spec.description)}</p>
{"".join(parts)}
<h2>What this cohort cannot support</h2><ul>{lim}</ul>
</body></html>"""
    payload["software_version"] = software_version()
    return page, payload


__all__ = ["CohortSpec", "build_report", "load_spec"]
