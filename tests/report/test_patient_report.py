"""The patient report as a tumour board reads it: rendered to pixels (Debian chromium) and PDF pages
(poppler), with the words checked on every page. The rendering tests need `chromium` and `poppler-utils`
(.ci/run installs them as root); elsewhere they skip with that reason."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import warnings
from html.parser import HTMLParser
from pathlib import Path

import pytest

from nerasense.errors import NerasenseWarning

ROOT = Path(__file__).resolve().parents[2]
BILIARY = {
    "patient_id": "GB-S310F", "description": "gallbladder carcinoma, ERBB2 S310F, after gemcitabine-cisplatin",
    "tumour_type": "GBC", "setting": "metastatic", "sex": "female", "age_years": 64.0, "ecog": 1,
    "her2": {"ihc": "1+"}, "alterations": [{"gene": "ERBB2", "change": "S310F", "vaf": 0.35}],
    "prior_therapies": [{"agents": ["other-chemotherapy"], "setting": "metastatic"}],
    "medications": ["carbamazepine"], "assessed_on": "2026-11-20",
}
EARLY = {
    "patient_id": "EBC-4M", "tumour_type": "IDC", "setting": "early", "age_years": 52.0, "er": "positive",
    "pr": "positive", "her2": {"ihc": "2+", "ish_ratio": 2.4, "her2_signals": 5.1}, "assessed_on": "2026-11-20",
    "prior_therapies": [{"agents": ["trastuzumab"], "setting": "adjuvant", "ended": "2026-07-20"}],
}


class _Text(HTMLParser):
    """Visible text of an HTML page (style and script dropped)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._skip += tag in ("style", "script", "svg")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("style", "script", "svg")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _visible(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def _report(tmp_path: Path, patient: dict, suffix: str, *extra: str) -> Path:
    from nerasense.cli import main

    f = tmp_path / f"{patient['patient_id']}.json"
    f.write_text(json.dumps(patient), encoding="utf-8")
    out = tmp_path / f"{patient['patient_id']}{suffix}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NerasenseWarning)
        assert main(["assess", str(f), "-o", str(out), "--json", *extra]) == 0
    return out


def _needs(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (Debian chromium / poppler-utils; .ci/run installs them as root)")


def test_report_words_for_people(tmp_path: Path, capsys) -> None:
    """Trial and test names, not ids or file names; research use only once; numbers for people; HER2 inputs
    beside the reading; the region's contraindication."""
    html = _report(tmp_path, BILIARY, ".html", "--region", "EU").read_text(encoding="utf-8")
    capsys.readouterr()
    text = _visible(html)
    assert len(re.findall(r"research use only", text, flags=re.IGNORECASE)) == 1
    assert not re.search(r"\bev-[a-z0-9-]+", text), "internal evidence ids"
    assert ".yaml" not in text and "seed 00" not in text and "_" not in re.sub(r"LEVEL_\w+", "", text.split("Citations")[0])
    assert "age 64" in text and "64.0" not in text
    assert not re.search(r"\d\)n=", text)
    assert "ORR 16% (exact 95% CI 4.5%–36.1%; 4 of 25)" in text
    assert "Gallbladder Cancer (GBC)" in text and "label region EU" in text
    assert "Results given IHC 1+" in text and "no breast category" in text
    assert "category HER2-low" not in text
    assert "contraindicated" in text and "carbamazepine" in text
    assert "nearest evidence is KCSG AL20-17/KM23" in text


def test_missing_residual_disease_is_named(tmp_path: Path, capsys) -> None:
    text = _visible(_report(tmp_path, EARLY, ".html").read_text(encoding="utf-8"))
    capsys.readouterr()
    assert "residual invasive disease at surgery after neoadjuvant therapy" in text
    assert "iDFS HR 0.58 (95% CI 0.41–0.82; n = 1334)" in text
    assert "ISH HER2/CEP17 ratio 2.4" in text and "HER2 signals/cell 5.1" in text


def test_forest_labels_wrap_to_fit() -> None:
    from nerasense.report.evidence_figure import LABEL_WIDTH, forest_svg

    long = "x" * 10
    reg = {"name": "Neratinib + trastuzumab (HER2-mutant solid tumours)", "call": "possible benefit", "evidence": [
        {"id": "e1", "direction": "sensitivity", "result": {
            "measure": "proportion", "endpoint": "ORR", "value": 0.3, "ci_low": 0.1, "ci_high": 0.5, "trial": "KCSG",
            "subgroup": " ".join([long] * 12)}}]}
    svg = forest_svg([reg])
    assert svg is not None
    lines = re.findall(r"<!-- (.*?) -->", svg)
    assert lines and max(len(t) for t in lines if "xxxxxxxxxx" in t) <= LABEL_WIDTH


def test_html_report_renders_in_chromium(tmp_path: Path, capsys) -> None:
    _needs("chromium")
    from PIL import Image

    html = _report(tmp_path, BILIARY, ".html")
    capsys.readouterr()
    png = tmp_path / "shot.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--screenshot={png}", "--window-size=1100,1600", html.as_uri()],
                   check=True, capture_output=True, timeout=120)
    img = Image.open(png).convert("L")
    assert img.size == (1100, 1600)
    lo, hi = img.getextrema()
    assert hi - lo > 100  # text on a page, not a blank or error screen
    dark = sum(img.histogram()[:128])  # pixels darker than mid-grey
    assert dark > 5000


def test_pdf_has_patient_id_and_page_x_of_y_on_every_page(tmp_path: Path, capsys) -> None:
    _needs("pdftoppm", "pdftotext", "pdfinfo")
    pdf = _report(tmp_path, BILIARY, ".pdf", "--region", "EU")
    capsys.readouterr()
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]
    assert pages >= 2
    for page in range(1, pages + 1):
        words = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(pdf), "-"],
                               check=True, capture_output=True, text=True).stdout
        assert "GB-S310F" in words, page
        assert f"page {page} of {pages}" in words, page
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True)
    assert (tmp_path / "p-1.png").stat().st_size > 10_000
    first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], check=True, capture_output=True,
                           text=True).stdout
    assert "OncoKB LEVEL_3A" in " ".join(first.split())  # the level column no longer breaks a word per line
