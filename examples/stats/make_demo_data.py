"""Regenerate the synthetic demo cohort in this folder (seeded; the CSVs are committed).

Synthetic, not patient data: 120 patients, two arms, a continuous biomarker that modifies the treatment
effect, exponential survival with uniform censoring; a lesion table for 8 patients; an AE table.
Run: python examples/stats/make_demo_data.py
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def main() -> None:
    rng = np.random.default_rng(20261122)
    n = 120
    arm = rng.integers(0, 2, n)
    marker = np.round(rng.gamma(2.0, 20.0, n), 1)
    site = rng.choice(["breast", "biliary", "cervical"], n)
    rate = 0.08 * np.exp(-0.6 * arm * (marker > 30))
    t = rng.exponential(1 / rate)
    c = rng.uniform(6, 36, n)
    pd.DataFrame(
        {
            "patient": [f"D{i:03d}" for i in range(n)],
            "neratinib": arm,
            "her2_marker": marker,
            "site": site,
            "pfs_months": np.round(np.minimum(t, c), 2),
            "pfs_event": (t <= c).astype(int),
            "best_response": rng.choice(["PR", "SD", "PD", "NE"], n, p=[0.25, 0.4, 0.3, 0.05]),
        }
    ).to_csv(HERE / "demo_cohort.csv", index=False)

    rows = []
    d0 = date(2025, 1, 6)
    shrink = [-0.55, -0.4, -0.35, -0.1, 0.05, 0.3, -0.25, -1.0]
    for i, s in enumerate(shrink):
        pid = f"D{i:03d}"
        base = {"T1": 40.0 + 3 * i, "T2": 22.0}
        for k, day in enumerate((0, 56, 112, 168)):
            f = 1 + s * min(k, 2) / 2
            for lid, b in base.items():
                v = max(0.0, round(b * f, 1))
                rows.append(
                    {
                        "patient": pid,
                        "date": (d0 + timedelta(days=day)).isoformat(),
                        "lesion_id": lid,
                        "kind": "target",
                        "organ": "liver" if lid == "T1" else "lung",
                        "nodal": 0,
                        "diameter": v if v > 0 else None,
                        "too_small": 0,
                        "disappeared": int(v == 0),
                        "status": None,
                    }
                )
    pd.DataFrame(rows).to_csv(HERE / "lesions.csv", index=False)

    ae = []
    for i in range(40):
        pid = f"D{i:03d}"
        ae.append({"patient": pid, "term": "Diarrhea", "grade": int(rng.choice([1, 2, 3], p=[0.4, 0.35, 0.25]))})
        if rng.random() < 0.4:
            ae.append({"patient": pid, "term": "Nausea", "grade": int(rng.choice([1, 2]))})
        if rng.random() < 0.3:
            ae.append({"patient": pid, "term": "Fatigue", "grade": int(rng.choice([1, 2, 3], p=[0.5, 0.4, 0.1]))})
    pd.DataFrame(ae).to_csv(HERE / "adverse_events.csv", index=False)


if __name__ == "__main__":
    main()
