"""The knowledge base validates, every number cites a source, and breakage is loud and specific."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nerasense.errors import KnowledgeError
from nerasense.knowledge import load_knowledge, schema
from nerasense.knowledge.loader import default_data_dir, write_manifest
from nerasense.knowledge.schema import Cited, Measure, Trial


@pytest.fixture()
def kb_copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(default_data_dir(), target)
    return target


def _edit(folder: Path, name: str, edit) -> None:
    path = folder / name
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    write_manifest(folder)  # isolate the edit from the checksum check


def test_bundled_knowledge_is_valid(kb) -> None:
    assert kb.kb_version.startswith(f"{kb.version}+")
    assert len(kb.content_hash) == 64


def test_every_source_has_a_locator_and_seeds_exist(kb, shared_data: Path) -> None:
    seeds = shared_data.parent / "seeds"
    for source in kb.sources.values():
        assert source.locator
        if source.seed_file:
            assert (seeds / source.seed_file).is_file(), source.id


REQUIRED_TRIALS = {
    # issue 2: the trials registry must hold these, with their NCT where the reference gives one
    "extenet": "NCT00878709", "nala": "NCT01808573", "ispy2-neratinib": None, "summit-basket": "NCT01953926",
    "summit-hr-pos": "NCT01953926", "muther": "NCT01670877", "kcsg-al20-17": "NCT06083662", "fb10": None,
    "tbcrc022": None, "control": None, "nct07333937": "NCT07333937",
}


@pytest.mark.parametrize(("trial_id", "nct"), REQUIRED_TRIALS.items())
def test_trial_registry_has(kb, trial_id: str, nct: str | None) -> None:
    trial = kb.trials[trial_id]
    assert trial.nct == nct
    assert trial.sources


@pytest.mark.parametrize(
    ("result_id", "value", "low", "high"),
    [
        # published headline numbers (domain-facts §5; seed 002)
        ("extenet-idfs-2y-hr", 0.67, 0.50, 0.91),
        ("extenet-idfs-5y-hr", 0.73, 0.57, 0.92),
        ("nala-pfs-hr", 0.76, 0.63, 0.93),
        ("nala-pfs-hr-hscore240", 0.54, 0.41, 0.72),
        ("nala-pfs-hr-p95-high", 0.66, 0.50, 0.86),
        ("nala-orr-n", 0.328, 0.271, 0.389),
        ("summit-breast-orr", 0.32, 0.15, 0.54),
        ("kcsg-orr", 0.256, 0.129, 0.412),
        ("tbcrc022-3a-cns-orr", 0.49, 0.32, 0.66),
    ],
)
def test_headline_results(kb, result_id: str, value: float, low: float, high: float) -> None:
    results = {r.id: r for t in kb.trials.values() for r in t.results}
    r = results[result_id]
    assert (r.value, r.ci_low, r.ci_high) == (value, low, high)


def test_post_tdxd_trial_design(kb) -> None:
    trial: Trial = kb.trials["nct07333937"]
    ss = trial.sample_size
    assert ss is not None
    assert (ss.p0, ss.p1, ss.alpha, ss.sides, ss.power, ss.n_evaluable, ss.dropout, ss.n_enrolled) == (
        0.21, 0.43, 0.05, 2, 0.80, 31, 0.10, 35)
    age = next(c for c in trial.eligibility if c.id == "age")
    assert (age.minimum, age.maximum) == (18, 75)


def test_kcsg_ctdna_cutoff_is_recorded_as_in_sample(kb) -> None:
    r = next(r for r in kb.trials["kcsg-al20-17"].results if r.id == "kcsg-pfs-hr-ctdna")
    assert r.value == 3.81 and "in-sample" in (r.note or "")


def test_unverified_facts_are_tagged(kb) -> None:
    tagged = [
        item.id for items in kb.entries.values() for item in items
        if isinstance(item, Cited) and item.unverified and hasattr(item, "id")
    ]
    assert "hermark-categories" in tagged


# ------------------------------------------------------------------ breakage is loud


def test_unknown_field_names_file_entry_and_field(kb_copy: Path) -> None:
    _edit(kb_copy, "her2_thresholds.yaml", lambda d: d["entries"][2].update(valu=240))
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(kb_copy)
    msg = str(info.value)
    assert "her2_thresholds.yaml" in msg and "id='h-score-high'" in msg and "valu" in msg


def test_unknown_source_id_fails(kb_copy: Path) -> None:
    _edit(kb_copy, "her2_ish.yaml", lambda d: d["entries"][0].update(source="nobody2099"))
    with pytest.raises(KnowledgeError, match=r"nobody2099.*not in sources\.yaml"):
        load_knowledge(kb_copy)


def test_number_without_source_fails(kb_copy: Path) -> None:
    _edit(kb_copy, "her2_thresholds.yaml", lambda d: d["entries"][3].pop("source"))
    with pytest.raises(KnowledgeError, match="p95-high"):
        load_knowledge(kb_copy)


def test_ci_must_contain_value(kb_copy: Path) -> None:
    _edit(kb_copy, "trials.yaml", lambda d: d["entries"][0]["results"][0].update(value=0.95))
    with pytest.raises(KnowledgeError, match="outside its CI"):
        load_knowledge(kb_copy)


def test_edit_without_rehash_is_caught(kb_copy: Path) -> None:
    path = kb_copy / "her2_thresholds.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("value: 240", "value: 250"), encoding="utf-8")
    with pytest.raises(KnowledgeError, match="changed since the manifest"):
        load_knowledge(kb_copy)


def test_all_problems_listed_together(kb_copy: Path) -> None:
    def break_two(d: dict) -> None:
        d["entries"][0]["score"] = "4+"
        d["entries"][1]["result"] = "maybe"

    _edit(kb_copy, "her2_ihc.yaml", break_two)
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(kb_copy)
    assert len(info.value.messages) >= 2


def test_proportions_are_fractions(kb) -> None:
    for trial in kb.trials.values():
        for r in trial.results:
            if r.measure is Measure.PROPORTION:
                assert 0 <= r.value <= 1, r.id


def test_every_entry_cites_a_source(kb) -> None:
    """Issue 2: every knowledge entry, of every kind, names at least one source in the registry."""
    from nerasense.knowledge.loader import _walk_sources

    uncited = [
        f"{kind}[{i}]" for kind, items in kb.entries.items() if kind != "sources"
        for i, item in enumerate(items) if not set(_walk_sources(item)) & set(kb.sources)
    ]
    assert uncited == []


# --------------------------------------------------------------------------- the validated-load cache


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("NERASENSE_CACHE_DIR", str(folder))
    monkeypatch.delenv("NERASENSE_NO_CACHE", raising=False)
    return folder


def test_cached_load_equals_a_full_validation(kb_copy: Path, cache: Path) -> None:
    from nerasense.knowledge.loader import load_knowledge_cached

    first = load_knowledge_cached(kb_copy)  # validates and writes the cache
    assert len(list(cache.glob("kb-*.pickle"))) == 1
    second = load_knowledge_cached(kb_copy)  # read back
    full = load_knowledge(kb_copy)
    assert second.kb_version == full.kb_version == first.kb_version
    assert second.entries == full.entries and second.data_dir == kb_copy


def test_an_edited_file_is_never_answered_from_the_cache(kb_copy: Path, cache: Path) -> None:
    from nerasense.knowledge.loader import load_knowledge_cached

    load_knowledge_cached(kb_copy)
    _edit(kb_copy, "trials.yaml", lambda d: d["entries"][0].update(bogus_field=1))
    with pytest.raises(KnowledgeError, match="bogus_field"):
        load_knowledge_cached(kb_copy)
    assert len(list(cache.glob("kb-*.pickle"))) == 1  # the failed load wrote nothing


def test_a_damaged_cache_file_is_validated_afresh(kb_copy: Path, cache: Path) -> None:
    from nerasense.knowledge.loader import load_knowledge_cached

    load_knowledge_cached(kb_copy)
    (target,) = cache.glob("kb-*.pickle")
    target.write_bytes(b"not a pickle")
    assert load_knowledge_cached(kb_copy).kb_version == load_knowledge(kb_copy).kb_version
    assert target.read_bytes() != b"not a pickle"  # rewritten


def test_cache_can_be_switched_off(kb_copy: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nerasense.knowledge.loader import load_knowledge_cached

    monkeypatch.setenv("NERASENSE_NO_CACHE", "1")
    load_knowledge_cached(kb_copy)
    assert not cache.exists()


def test_a_cached_load_imports_only_the_models_of_the_kinds_asked_for(kb_copy: Path, cache: Path) -> None:
    """annotate asks for the genomics kinds alone: the HER2, trial, dosing and ctDNA models stay unimported."""
    from nerasense.knowledge.loader import load_knowledge_cached

    load_knowledge_cached(kb_copy)  # fills the cache
    probe = (
        "import sys\n"
        "from nerasense.knowledge.loader import load_knowledge_cached\n"
        "from nerasense.knowledge.genomics import GenomicsKnowledge\n"
        f"gk = GenomicsKnowledge(load_knowledge_cached({str(kb_copy)!r}))\n"
        "gk.rules, gk.regions, gk.pathway_genes, gk.gene_aliases, gk.variant_aliases, gk.hotspots\n"
        "print(sorted(m for m in sys.modules if m.startswith('nerasense.knowledge.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         env={**os.environ, "NERASENSE_CACHE_DIR": str(cache)}).stdout
    imported = set(ast.literal_eval(out.strip().splitlines()[-1]))
    for absent in ("schema", "conditions", "dosing_schema", "ctdna_schema", "registry"):
        assert f"nerasense.knowledge.{absent}" not in imported
    assert "nerasense.knowledge.genomics_schema" in imported


def test_a_damaged_kind_inside_the_cache_names_the_file_and_the_fix(kb_copy: Path, cache: Path) -> None:
    import pickle

    from nerasense.knowledge.loader import load_knowledge_cached

    load_knowledge_cached(kb_copy)
    (target,) = cache.glob("kb-*.pickle")
    blob = pickle.loads(target.read_bytes())
    blob["entries"]["trials"] = b"not a pickle"
    target.write_bytes(pickle.dumps(blob))
    kb = load_knowledge_cached(kb_copy)
    assert kb.of("sources", schema.Source)  # the other kinds still read
    with pytest.raises(KnowledgeError, match=r"kind 'trials' cannot be read.*delete the file, or set NERASENSE_NO_CACHE=1"):
        kb.of("trials", Trial)
