"""Issue 17: hostile input. One regression test per bug the issue lists, each with its own small input written
here: no traceback, no hang, no file read outside the case, no silent wrong answer, nothing half-written."""

from __future__ import annotations

import errno
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nerasense.cli import VERBS, build_parser, main
from nerasense.errors import InputError
from nerasense.ingest.cna import read_cna
from nerasense.safe_io import atomic_write, check_id, load_json, load_yaml, split_lines

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-c", "from nerasense.cli import run; run()"]  # the command line in a child process
SECRET = "TOPSECRET-LINE-7f3a"  # the first line of a file outside the case folder: must never be echoed


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _one_clean_line(err: str) -> None:
    assert "Traceback" not in err
    assert err.startswith("error: ") and err.count("\n") == 1, err


@pytest.fixture()
def case(tmp_path: Path) -> Path:
    """A case folder and, beside it, a folder with a 'secret' copy-number file outside the case."""
    (tmp_path / "case").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.tsv").write_text(f"{SECRET}\tx\nERBB2\t2\n")
    return tmp_path / "case"


# ------------------------------------------------------------------------------------ paths are confined


@pytest.mark.parametrize("path", ["ABSOLUTE", "../outside/secret.tsv", "link.tsv"])
def test_patient_file_cannot_read_outside_its_folder(case: Path, path: str, capsys: pytest.CaptureFixture[str]) -> None:
    secret = case.parent / "outside" / "secret.tsv"
    (case / "link.tsv").symlink_to(secret)  # a symlink inside the case pointing out of it
    named = str(secret) if path == "ABSOLUTE" else path
    (case / "p.yaml").write_text(f"patient_id: P1\nsequencing:\n  - path: {named}\n    format: cna\n")
    code, out, err = _run(["assess", str(case / "p.yaml"), "--json"], capsys)
    assert code == 2 and out == ""
    _one_clean_line(err)
    assert "sequencing[0].path" in err and "--allow-dir" in err
    assert SECRET not in err


def test_allow_dir_lifts_the_confinement(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outside = case.parent / "outside"
    (outside / "cna.tsv").write_text("Sample\tGene\tCNA\nS1\tERBB2\tAMP\n")
    (case / "p.yaml").write_text("patient_id: P1\nsequencing:\n  - path: ../outside/cna.tsv\n")
    assert _run(["assess", str(case / "p.yaml"), "--json"], capsys)[0] == 2
    code, out, _ = _run(["assess", str(case / "p.yaml"), "--json", "--allow-dir", str(outside)], capsys)
    assert code == 0
    assert any(a["gene"] == "ERBB2" for a in json.loads(out)["alterations"])


def test_ctdna_variants_file_is_confined_to_the_series_folder(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (case / "series.csv").write_text(
        "patient_id,sample_id,date,qc,variants_file\nP1,S1,2024-01-02,pass,../outside/secret.tsv\n")
    code, _, err = _run(["ctdna", str(case / "series.csv"), "--json"], capsys)
    assert code == 2 and "variants_file" in err and SECRET not in err


@pytest.mark.parametrize("pid", ["../x", "a/b", "..", ".", "x\ny", ""])
def test_patient_id_that_is_not_a_file_name_is_refused(tmp_path: Path, pid: str) -> None:
    with pytest.raises(InputError):
        check_id(pid)


def test_patient_id_cannot_write_outside_the_batch_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "p.yaml").write_text("patient_id: '../x'\n")
    code, out, _ = _run(["batch", str(tmp_path / "p.yaml"), "-o", str(tmp_path / "out"), "--json"], capsys)
    assert code == 1 and "patient_id='../x'" in json.loads(out)["failed"][0]["error"]
    assert not (tmp_path / "x.json").exists()
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")) == ["summary.tsv"]


def test_batch_refuses_two_patients_with_one_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text("patient_id: SAME\ntumour_type: BRCA\n")
    code, _, err = _run(["batch", str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml"), "-o", str(tmp_path / "out")], capsys)
    assert code == 2 and "patient_id='SAME'" in err and "a.yaml" in err and "b.yaml" in err
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------------------ safe parsing

BOMB = "\n".join(
    ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    + [f"{b}: &{b} [{','.join(['*' + a] * 9)}]" for a, b in zip("abcde", "bcdef", strict=True)]
    + ["patient_id: P1", ""]
)


def test_yaml_alias_bomb_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert len(BOMB) < 700
    (tmp_path / "bomb.yaml").write_text(BOMB)
    code, _, err = _run(["assess", str(tmp_path / "bomb.yaml"), "--json"], capsys)
    assert code == 2 and "aliases are expanded" in err
    _one_clean_line(err)


@pytest.mark.parametrize(("text", "says"), [
    ("patient_id: P1\nassessed_on: !!timestamp 2025-13-45\n", "explicit YAML tags"),
    ("patient_id: P1\nx: !custom 1\n", "explicit YAML tags"),
    ("patient_id: P1\nextra: " + "[" * 3000 + "]" * 3000 + "\n", "nested deeper than 64"),
    ("patient_id: P1\npatient_id: P2\n", "appears twice"),
    ("patient_id: P1\n  bad: [\n", "valid YAML"),
])
def test_yaml_shapes_refused_by_name(tmp_path: Path, text: str, says: str, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "p.yaml").write_text(text)
    code, _, err = _run(["assess", str(tmp_path / "p.yaml"), "--json"], capsys)
    assert code == 2 and says in err
    _one_clean_line(err)


def test_unquoted_impossible_date_is_a_field_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "p.yaml").write_text("patient_id: P1\nassessed_on: 2025-13-45\n")
    code, _, err = _run(["assess", str(tmp_path / "p.yaml"), "--json"], capsys)
    assert code == 2 and "assessed_on='2025-13-45'" in err


@pytest.mark.parametrize(("data", "says"), [
    ("patient_id: P1\n".encode("utf-16"), "UTF-16 (little-endian)"),
    (b"patient_id: P\xe91\n", "line 1, column 14: byte 0xe9 is not UTF-8"),
])
def test_patient_file_encodings(tmp_path: Path, data: bytes, says: str, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "p.yaml").write_bytes(data)
    code, _, err = _run(["assess", str(tmp_path / "p.yaml"), "--json"], capsys)
    assert code == 2 and says in err


def test_utf8_bom_is_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "p.yaml").write_bytes(b"\xef\xbb\xbfpatient_id: P1\n")
    assert _run(["assess", str(tmp_path / "p.yaml"), "--json"], capsys)[0] == 0


def test_json_patient_file_limits(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="appears twice"):
        load_json('{"a": 1, "a": 2}', "p.json")
    with pytest.raises(InputError, match="NaN is not a JSON number"):
        load_json('{"a": NaN}', "p.json")
    with pytest.raises(InputError, match="nested at most"):
        load_json("[" * 5000 + "]" * 5000, "p.json")
    assert load_yaml("a: 2024-01-02\n", "x") == {"a": "2024-01-02"}  # dates stay text for the models


@pytest.mark.parametrize("command", [
    lambda f: ["assess", f, "--json"],
    lambda f: ["annotate", f, "--format", "maf", "--json"],
    lambda f: ["annotate", f, "--format", "vcf", "--json"],
    lambda f: ["annotate", f, "--format", "cna", "--json"],
    lambda f: ["survival", "km", f, "--time", "t", "--event", "e", "--json"],
    lambda f: ["recist", f, "--json"],
    lambda f: ["ctdna", f, "--json"],
])
def test_fifo_is_refused_without_opening(tmp_path: Path, command: object, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "input.csv"
    os.mkfifo(fifo)  # nobody writes to it: opening it for reading would block forever
    code, _, err = _run(command(str(fifo)), capsys)  # type: ignore[operator]
    assert code == 2 and "named pipe (FIFO)" in err


def test_folder_given_as_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "data.csv"
    folder.mkdir()
    code, _, err = _run(["survival", "km", str(folder), "--time", "t", "--event", "e"], capsys)
    assert code == 2 and "not a folder" in err


def test_cna_records_end_only_at_newline(tmp_path: Path) -> None:
    """str.splitlines split 'AMP<U+2028>junk' into a call AMP (an ERBB2 amplification) and a junk line."""
    path = tmp_path / "calls_cna.txt"
    path.write_text("Sample\tGene\tCNA\nS1\tERBB2\tAMP\u2028junk\nS1\tEGFR\tAMP\x0cjunk\nS1\tMET\tAMP\u0085x\nS2\tKRAS\t2\n",
                    encoding="utf-8")
    table = read_cna(path)
    assert table.frame.height == 1 and table.frame["gene"].to_list() == ["KRAS"]
    assert table.frame["line"].to_list() == [5]  # line numbers are not shifted
    assert table.rejected.height == 3 and table.accounted
    assert split_lines("a\r\nb\u2028c\rd\n") == ["a", "b\u2028c\rd"]


def test_survival_refuses_a_duplicated_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """pandas renamed the copy to 'months.1' and km analysed the other column, exit 0."""
    path = tmp_path / "cohort.csv"
    path.write_text("months,event,months\n5,1,30\n9,1,31\n12,0,35\n")
    code, _, err = _run(["survival", "km", str(path), "--time", "months", "--event", "event", "--json"], capsys)
    assert code == 2 and "column='months'" in err and "more than once" in err


@pytest.mark.parametrize(("argv", "says"), [
    (["recist", "LESIONS", "--cbr-weeks", "inf"], "--cbr-weeks"),
    (["survival", "km", "COHORT", "--time", "t", "--event", "e", "--tau", "inf"], "--tau"),
    (["survival", "km", "COHORT", "--time", "t", "--event", "e", "--level", "nan"], "--level"),
    (["cutpoint", "COHORT", "--time", "t", "--event", "e", "--marker", "m", "--permutations", "10", "--seed", "-1"],
     "--seed"),
    (["survival", "km", "COHORT", "--time", "t", "--event", "e", "--group", "site", "--strata", "site"], "--strata"),
    (["stats", "orr", "--responders", "-1", "--evaluable", "10"], "--responders"),
    # found by the fuzz test: an infinite ISH value reached the JSON writer
    (["her2", "--ihc", "0", "--ish-ratio", "INF", "--her2-signals", "0", "--cep17-signals", "INF"], "ish_ratio='INF'"),
    (["her2", "--ihc", "2+", "--ish-ratio", "2.5", "--her2-signals=-inf", "--cep17-signals", "2"], "her2_signals='-inf'"),
])
def test_numbers_out_of_range_are_refused_by_option(tmp_path: Path, argv: list[str], says: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    cohort = tmp_path / "cohort.csv"
    cohort.write_text("t,e,m,site\n1,1,0.5,a\n2,0,0.7,b\n3,1,0.2,a\n4,1,0.9,b\n")
    lesions = tmp_path / "lesions.csv"
    lesions.write_text("patient,date,lesion_id,kind,organ,nodal,diameter\nP1,2024-01-01,L1,target,liver,0,30\n")
    argv = [str(cohort) if a == "COHORT" else str(lesions) if a == "LESIONS" else a for a in argv]
    code, out, err = _run([*argv, "--json"], capsys)
    assert code == 2 and says in err and out == ""
    _one_clean_line(err)


def test_ctdna_infinite_depth_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "series.csv"
    path.write_text("patient_id,sample_id,date,qc,sample_depth,gene,alteration,vaf,depth\n"
                    "P1,S1,2024-01-02,pass,inf,ERBB2,p.L755S,0.1,inf\n")
    code, _, err = _run(["ctdna", str(path), "--json"], capsys)
    assert code == 2 and "'inf'" in err


def test_protein_position_of_4400_digits(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["variant", "ERBB2", "p.L" + "7" * 4400 + "S", "--json"], capsys)
    assert code == 2 and "at most 6 digits" in err and len(err) < 1000


def test_variant_with_double_dash(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["variant", "--json", "--", "ERBB2", "--"], capsys)
    assert code == 2
    _one_clean_line(err)


# -------------------------------------------------------------------------------- one boundary per reader


def test_damaged_vcf_header_prints_no_htslib_lines(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    vcf = tmp_path / "bad.vcf"
    vcf.write_text("##fileformat=VCFv4.2\n##FORMAT=<ID=AD,Number=R,Type?Integer,Description=\"Allelic depths\">\n"
                   "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n17\t1\t.\tC\tT\t.\tPASS\t.\n")
    code = main(["annotate", str(vcf), "--json"])
    _, err = capfd.readouterr()
    assert code == 2 and "htslib said: [E::bcf_hdr_parse_line]" in err  # htslib's words, in our one line
    assert "[E::" not in err.replace("htslib said: [E::", "")
    _one_clean_line(err)
    headless = tmp_path / "headless.vcf"
    headless.write_text("##fileformat=VCFv4.2\n17\t1\t.\tC\tT\t.\tPASS\t.\n")
    assert main(["annotate", str(headless), "--json"]) == 2
    assert "no #CHROM line" in capfd.readouterr().err


@pytest.mark.parametrize("name", ["mutations.maf.gz", "data_cna.txt.gz", "x.vcf.gz"])
def test_corrupt_gzip_is_an_input_error(tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    body = gzip.compress(b"Hugo_Symbol\tTumor_Sample_Barcode\nERBB2\tS1\n" * 50)
    path = tmp_path / name
    path.write_bytes(body[: len(body) // 2])  # truncated stream
    code, _, err = _run(["annotate", str(path), "--json"], capsys)
    assert code == 2
    _one_clean_line(err)


def test_non_utf8_byte_in_a_maf_names_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "x.maf"
    path.write_bytes(b"Hugo_Symbol\tTumor_Sample_Barcode\tHGVSp_Short\nERBB2\tS1\tp.L755S\nERBB2\tS\xff2\tp.V777L\n")
    code, _, err = _run(["annotate", str(path), "--json"], capsys)
    assert code == 2 and "line 3" in err and "0xff" in err


# ---------------------------------------------------------------------------------------- atomic outputs


def test_atomic_write_leaves_old_file_whole_on_a_full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")

    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("nerasense.safe_io.os.fsync", full)
    with pytest.raises(InputError, match="No space left on device"):
        atomic_write(target, "new" * 1000)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no partial file left


def test_output_to_a_symlink_loop_or_a_device(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    loop = tmp_path / "loop.html"
    loop.symlink_to(loop)
    patient = REPO / "examples" / "patients" / "08-most-tests-missing.yaml"
    code, _, err = _run(["assess", str(patient), "-o", str(loop)], capsys)
    assert code == 2 and "output=" in err
    _one_clean_line(err)
    with pytest.raises(InputError, match="not a regular file"):
        atomic_write("/dev/null", "x")


def test_batch_resume_rebuilds_summary_after_a_killed_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    files = []
    for i in range(3):
        f = tmp_path / f"p{i}.yaml"
        f.write_text(f"patient_id: P{i}\ntumour_type: BRCA\nher2: {{ihc: 3+}}\n")
        files.append(str(f))
    out = tmp_path / "out"
    import nerasense.pipeline as pipeline

    real = pipeline.assess_file
    calls: list[str] = []

    def killed_at_second(path: Path, *args: object, **kwargs: object) -> object:
        calls.append(str(path))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "assess_file", killed_at_second)
    assert main(["batch", *files, "-o", str(out)]) == 130
    written = sorted(p.name for p in out.iterdir() if p.suffix == ".json")
    assert written == ["P0.json"]  # whole, parseable, nothing half-written
    json.loads((out / "P0.json").read_text())
    monkeypatch.setattr(pipeline, "assess_file", real)
    capsys.readouterr()
    code, _, err = _run(["batch", *files, "-o", str(out)], capsys)
    assert code == 2 and "--resume" in err  # a reused folder is refused
    code, outp, _ = _run(["batch", *files, "-o", str(out), "--resume", "--json"], capsys)
    payload = json.loads(outp)
    assert code == 0 and payload["skipped"] == 1 and payload["assessed"] == 2
    lines = (out / "summary.tsv").read_text().splitlines()
    assert {ln.split("\t")[0] for ln in lines[1:]} == {"P0", "P1", "P2"}
    code, outp, _ = _run(["batch", files[0], "-o", str(out), "--overwrite", "--json"], capsys)
    assert code == 0 and sorted(p.name for p in out.iterdir() if p.suffix == ".json") == ["P0.json"]


def test_broken_pipe_is_quiet(tmp_path: Path) -> None:
    proc = subprocess.Popen([*CLI, "kb", "show", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like `| head` leaving before the output comes
    err = proc.stderr.read().decode()
    proc.stderr.close()
    code = proc.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipe" not in err and err == ""
    assert code == 1  # Python's convention for a broken pipe, said with no message


def test_json_on_stdout_is_refused_above_the_limit(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("NERASENSE_MAX_JSON_MB", "0.0001")
    code, out, err = _run(["interactions", "omeprazole", "--json"], capsys)
    assert code == 2 and out == "" and "-o" in err and "NERASENSE_MAX_JSON_MB" in err


# --------------------------------------------------------------------------- all problems at once, start-up


def test_seven_patient_file_mistakes_in_one_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "p.yaml").write_text(
        "patient_id: P1\necgo: 1\ntumour_type: BRAC\nsetting: metastatc\nher2: {ihc: 5+}\n"
        "prior_therapies:\n  - {agents: [trastuzumab], setting: adjuvnt}\nsequencing:\n  - path: missing.maf\n"
        "alterations:\n  - {gene: ERBB2, change: p.L755}\n")
    code, _, err = _run(["assess", str(tmp_path / "p.yaml"), "--json"], capsys)
    assert code == 2
    for expected in ("ecgo=1", "did you mean 'ecog'?", "tumour_type='BRAC'", "did you mean 'BRCA'?",
                     "setting='metastatc'", "did you mean 'metastatic'?", "her2.ihc='5+'",
                     "prior_therapies.0.setting='adjuvnt'", "did you mean 'adjuvant'?", "sequencing[0].path='missing.maf'",
                     "alterations[0].protein_change='p.L755'"):
        assert expected in err, expected


def test_version_and_help_import_no_command(tmp_path: Path) -> None:
    code = ("import sys; from nerasense.cli import main\n"
            "for argv in (['--version'], ['--help']):\n"
            "    try: main(argv)\n"
            "    except SystemExit: pass\n"
            "assert not [m for m in sys.modules if m.startswith('nerasense.cli.commands.')], sys.modules\n"
            "assert 'polars' not in sys.modules and 'pandas' not in sys.modules and 'pydantic' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path, capture_output=True)


def test_verbs_list_matches_the_command_modules() -> None:
    parser = build_parser(stubs=False)
    actions = [a for a in parser._subparsers._group_actions]  # type: ignore[union-attr]
    helps = {c.dest: c.help for a in actions for c in a._choices_actions}  # type: ignore[attr-defined]
    assert helps == VERBS


# ------------------------------------------------------------------------------------------ bounded memory


def test_streamed_annotate_equals_the_one_pass_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """A large MAF written with -o is read in chunks (memory set by the chunk): the output table, the line
    numbers, the rejected records and the summary must equal the one-pass reading of the same file."""
    import polars as pl

    from nerasense.cli.commands import annotate

    seed = (REPO / "fuzz" / "seeds" / "mutations.maf").read_text().splitlines()
    header, rows = seed[0], seed[1:]
    body = [r.split("\t") for _ in range(9) for r in rows]
    for i, cells in enumerate(body):
        cells[9] = f"S{i % 5}"
    body[5][11] = "lots"  # a rejected row (t_depth not an integer) in the first chunk
    body[30][3] = "-"  # and one (Start_Position) in a later chunk
    body = ["\t".join(cells) for cells in body]
    maf = tmp_path / "big.maf"
    maf.write_text("\n".join([header, *body]) + "\n")
    results = {}
    for mode, (limit, lines) in {"one-pass": (10**12, 10**9), "chunked": (0, 7)}.items():
        monkeypatch.setattr(annotate, "STREAM_BYTES", limit)
        monkeypatch.setattr(annotate, "CHUNK_LINES", lines)
        out = tmp_path / f"{mode}.tsv"
        code, text, _ = _run(["annotate", str(maf), "-o", str(out), "--json"], capsys)
        assert code == 0
        results[mode] = (json.loads(text), pl.read_csv(out, separator="\t", infer_schema=False))
    (one, one_rows), (chunked, chunked_rows) = results["one-pass"], results["chunked"]
    assert any("6 chunks" in n for n in chunked["notes"])
    assert chunked_rows.equals(one_rows)
    assert chunked["rejected"] == one["rejected"] and len(one["rejected"]) == 2
    assert {k: v for k, v in chunked["summary"].items() if k != "seconds"} == \
        {k: v for k, v in one["summary"].items() if k != "seconds"}


def test_vcf_whose_alleles_have_no_protein_change(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by the fuzz harness: every HGVSp empty made an all-null column that polars refused to treat as text."""
    vcf = tmp_path / "nochange.vcf"
    vcf.write_text("##fileformat=VCFv4.2\n##INFO=<ID=CSQ,Number=.,Type=String,Description=\"Consequence annotations from "
                   "Ensembl VEP. Format: Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|EXON|HGVSc|"
                   "HGVSp\">\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n17\t1\t.\tC\tT\t.\tPASS\t"
                   "CSQ=T|missense_variant|MODERATE|ERBB2|x|Transcript|ENST1|protein_coding|1/2||\n")
    code, out, _ = _run(["annotate", str(vcf), "--json"], capsys)
    assert code == 0 and json.loads(out)["summary"]["alterations"] == 1


def test_non_ascii_genotype_cannot_crash_htslib(tmp_path: Path) -> None:
    """Found by atheris: a byte 0xb1 in a sample's GT made htslib end the process with a segmentation fault.
    Run in a child process, so a regression fails this test instead of killing the test run."""
    vcf = tmp_path / "gt.vcf"
    vcf.write_bytes(b"##fileformat=VCFv4.2\n##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
                    b"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR\n17\t5\t.\tC\tT\t.\tPASS\t.\tGT\t0/\xb1\n")
    res = subprocess.run([*CLI, "annotate", str(vcf), "--json"], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 2, res.stderr
    assert "line 4, column sample 1 holds the byte(s) 0xb1" in res.stderr and res.stderr.count("\n") == 1
