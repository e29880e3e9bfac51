"""The ``dqc`` command line: bad input gives one line and exit 2 and writes nothing; good input works."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from qiskit import qasm2, qasm3, qpy

from dqc_compiler.cli import main
from dqc_compiler.io import load_circuit

ROOT = Path(__file__).resolve().parent.parent
QFT4 = ROOT / "benchmarks" / "circuits" / "qft_noswap_4.qasm"

QASM2_HEADER = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n'
QASM3_HEADER = 'OPENQASM 3.0;\ninclude "stdgates.inc";\n'


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    """``dqc ARGV`` in-process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def run_subprocess(*argv, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dqc_compiler.cli", *map(str, argv)],
                          capture_output=True, text=True, timeout=120, cwd=cwd)


def assert_one_line_error(code: int, stdout: str, stderr: str, *fragments: str) -> str:
    """Exit 2, exactly one stderr line ``dqc: error: ...`` containing every fragment, no traceback."""
    assert code == 2, (code, stdout, stderr)
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    line = lines[0]
    assert line.startswith("dqc: error: "), line
    assert "Traceback" not in stderr and "Traceback" not in stdout
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in {line!r}"
    return line


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# ---------------------------------------------------------------------- bad input: exit 2, nothing written
def _bad_compile_cases(tmp: Path):
    """(id, argv after 'compile' without outputs, fragments the message must contain)."""
    bad2 = write(tmp / "bad2.qasm", QASM2_HEADER + "qreg q[2];\nh q[0]\ncx q[0],q[1];\n")
    bad3 = write(tmp / "bad3.qasm", QASM3_HEADER + "qubit[2] q;\nh q[0]\ncx q[0], q[1];\n")
    undef2 = write(tmp / "undef2.qasm", QASM2_HEADER + "qreg q[2];\nh q[0];\nfoo q[0];\n")
    undef3 = write(tmp / "undef3.qasm", QASM3_HEADER + "qubit[2] q;\nh q[0];\nfoo q[0];\n")
    loop = write(tmp / "loop.qasm", QASM3_HEADER + "qubit[2] q;\nbit[1] c;\nh q[0];\nc[0] = measure q[0];\n"
                 "while (c[0]) { x q[0]; c[0] = measure q[0]; }\ncx q[0], q[1];\n")
    small = write(tmp / "small.json", json.dumps({"qpus": [{"name": "a", "data_qubits": 1},
                                                           {"name": "b", "data_qubits": 2}]}))
    malformed = write(tmp / "malformed.json", '{\n  "qpus": [\n    {"name": "a" "data_qubits": 4}\n  ]\n}\n')
    twice = write(tmp / "twice.json", json.dumps({"qpus": [{"name": "a", "data_qubits": 4},
                                                           {"name": "a", "data_qubits": 4}]}))
    unknown = write(tmp / "unknown.json", json.dumps({"qpus": [{"name": "a", "data_qubits": 4},
                                                               {"name": "b", "data_qubits": 4}],
                                                      "links": [["a", "c"]]}))
    array = write(tmp / "array.json", "[1, 2]\n")
    no_qpus = write(tmp / "noqpus.json", json.dumps({"links": []}))
    empty = write(tmp / "empty.qasm", "")
    return [
        ("missing-input", [tmp / "absent.qasm", "--qpus", 2], ["absent.qasm", "not found"]),
        ("input-is-directory", [tmp, "--qpus", 2], [str(tmp), "directory"]),
        ("empty-input", [empty, "--qpus", 2], ["empty.qasm", "empty"]),
        ("qasm2-syntax", [bad2, "--qpus", 2], ["bad2.qasm:5:"]),
        ("qasm3-syntax", [bad3, "--qpus", 2], ["bad3.qasm:5:"]),
        ("qasm2-undefined-gate", [undef2, "--qpus", 2], ["undef2.qasm:5:", "foo"]),
        ("qasm3-undefined-gate", [undef3, "--qpus", 2], ["undef3.qasm:5:", "foo"]),
        ("qpus-zero", [QFT4, "--qpus", 0], ["--qpus", "0"]),
        ("qpus-negative", [QFT4, "--qpus", -3], ["--qpus", "-3"]),
        ("comm-qubits-negative", [QFT4, "--qpus", 2, "--comm-qubits", -1], ["--comm-qubits"]),
        ("network-too-small", [QFT4, "--network", small], ["small.json", "4 qubits", "3 data qubits"]),
        ("network-malformed-json", [QFT4, "--network", malformed], ["malformed.json:3:", "JSON"]),
        ("network-qpu-named-twice", [QFT4, "--network", twice], ["twice.json", "'a'", "twice"]),
        ("network-unknown-link-end", [QFT4, "--network", unknown], ["unknown.json", "unknown QPU 'c'"]),
        ("network-not-an-object", [QFT4, "--network", array], ["array.json", "object"]),
        ("network-without-qpus", [QFT4, "--network", no_qpus], ["noqpus.json", "qpus"]),
        ("network-missing", [QFT4, "--network", tmp / "absent.json"], ["absent.json", "not found"]),
        ("while-loop", [loop, "--qpus", 2], ["loop.qasm", "'while' loops are not supported"]),
        ("no-comm-qubits", [QFT4, "--qpus", 2, "--comm-qubits", 0], ["qft_noswap_4.qasm", "comm qubits"]),
    ]


BAD_COMPILE_IDS = [
    "missing-input", "input-is-directory", "empty-input", "qasm2-syntax", "qasm3-syntax",
    "qasm2-undefined-gate", "qasm3-undefined-gate", "qpus-zero", "qpus-negative", "comm-qubits-negative",
    "network-too-small", "network-malformed-json", "network-qpu-named-twice", "network-unknown-link-end",
    "network-not-an-object", "network-without-qpus", "network-missing", "while-loop", "no-comm-qubits",
]


@pytest.mark.parametrize("case", BAD_COMPILE_IDS)
def test_compile_bad_input(tmp_path, capsys, case):
    cases = {c[0]: c for c in _bad_compile_cases(tmp_path)}
    assert set(cases) == set(BAD_COMPILE_IDS)
    _, argv, fragments = cases[case]
    out_path, report_path = tmp_path / "OUT.qasm", tmp_path / "R.json"
    code, stdout, stderr = run_cli(capsys, "compile", *argv, "-o", out_path, "--report", report_path, "--verify")
    assert_one_line_error(code, stdout, stderr, *fragments)
    assert not out_path.exists()
    assert not report_path.exists()
    assert not list(tmp_path.glob(".OUT.qasm.*")) and not list(tmp_path.glob(".R.json.*"))  # no temp files


@pytest.mark.parametrize("which", ["output", "report"])
def test_compile_into_missing_directory(tmp_path, capsys, which):
    out_path, report_path = tmp_path / "OUT.qasm", tmp_path / "R.json"
    if which == "output":
        out_path = tmp_path / "nowhere" / "OUT.qasm"
        missing = out_path
    else:
        report_path = tmp_path / "nowhere" / "R.json"
        missing = report_path
    code, stdout, stderr = run_cli(capsys, "compile", QFT4, "--qpus", 2, "-o", out_path, "--report", report_path)
    assert_one_line_error(code, stdout, stderr, str(missing), "does not exist")
    assert not out_path.exists() and not report_path.exists()
    assert not (tmp_path / "nowhere").exists()


def test_compile_output_is_a_directory(tmp_path, capsys):
    report_path = tmp_path / "R.json"
    code, stdout, stderr = run_cli(capsys, "compile", QFT4, "--qpus", 2, "-o", tmp_path, "--report", report_path)
    assert_one_line_error(code, stdout, stderr, str(tmp_path), "directory")
    assert not report_path.exists()


def test_bad_input_as_subprocess(tmp_path):
    """The real entry point: one line on stderr, exit 2, no traceback, nothing written."""
    bad = write(tmp_path / "bad.qasm", QASM3_HEADER + "qubit[2] q;\nh q[0];\ncx q[0] q[1];\n")
    proc = run_subprocess("compile", bad, "--qpus", 2, "-o", tmp_path / "OUT.qasm", "--report", tmp_path / "R.json")
    assert_one_line_error(proc.returncode, proc.stdout, proc.stderr, "bad.qasm:5:")
    assert proc.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.qasm"]


# ---------------------------------------------------------------------- good path
REPORT_FIELDS = {
    "schema": None,
    "input": {"name", "num_qubits", "num_ops", "num_2q_gates"},
    "network": {"qpus", "links"},
    "layout": {"initial", "final"},
    "cost": {"ebits", "classical_bits", "nonlocal_gates", "telegates", "teledata"},
    "schedule": {"comm_rounds", "makespan"},
    "verification": {"equivalent", "method"},
    "timing": {"compile_seconds"},
}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """``dqc compile qft_noswap_4.qasm --qpus 2 -o OUT.qasm --report R.json --verify`` as a real subprocess."""
    tmp = tmp_path_factory.mktemp("compiled")
    proc = run_subprocess("compile", QFT4, "--qpus", 2, "-o", tmp / "OUT.qasm", "--report", tmp / "R.json",
                          "--verify", "--seed", 3)
    return tmp, proc


def test_compile_good_path(compiled):
    tmp, proc = compiled
    assert proc.returncode == 0, proc.stderr
    assert all(line.startswith("dqc: [") for line in proc.stderr.splitlines())  # --verify progress only
    assert "ebits" in proc.stdout and "equivalent" in proc.stdout
    report = json.loads((tmp / "R.json").read_text())
    for key, fields in REPORT_FIELDS.items():
        assert key in report, key
        if fields:
            assert fields <= set(report[key]), (key, report[key])
    assert report["schema"] == 1
    assert report["input"]["num_qubits"] == 4
    assert report["input"]["num_2q_gates"] == 6
    assert [q["name"] for q in report["network"]["qpus"]] == ["qpu0", "qpu1"]
    assert all(q["data_qubits"] == 2 for q in report["network"]["qpus"])
    assert report["network"]["links"] == [["qpu0", "qpu1"]]
    for key in ("initial", "final"):
        positions = report["layout"][key]
        assert len(positions) == 4
        assert len({(p["qpu"], p["index"]) for p in positions}) == 4
        assert all(p["qpu"] in ("qpu0", "qpu1") and 0 <= p["index"] < 2 for p in positions)
    cost = report["cost"]
    assert cost["ebits"] >= 1  # qft_noswap_4 over two QPUs must communicate
    assert cost["ebits"] == cost["telegates"] + cost["teledata"]
    assert cost["classical_bits"] == 2 * cost["telegates"] + 2 * cost["teledata"]
    assert report["schedule"]["comm_rounds"] >= 1
    assert report["schedule"]["makespan"] > 0
    assert report["verification"]["equivalent"] is True
    assert isinstance(report["verification"]["method"], str) and report["verification"]["method"]
    assert report["timing"]["compile_seconds"] >= 0

    circuit = qasm3.loads((tmp / "OUT.qasm").read_text())
    assert sum(1 for inst in circuit.data if inst.operation.name == "epr") == cost["ebits"]
    assert sorted(r.name for r in circuit.qregs) == ["qpu0", "qpu1"]
    for instruction in circuit.data:  # only epr (and barriers) may touch two QPUs
        owners = {circuit.find_bit(q).registers[0][0].name for q in instruction.qubits}
        assert len(owners) == 1 or instruction.operation.name in ("epr", "barrier"), instruction


def test_compile_qpy_and_json(tmp_path, capsys):
    code, stdout, stderr = run_cli(capsys, "compile", QFT4, "--qpus", 2, "-o", tmp_path / "OUT.qpy", "--json")
    assert code == 0, stderr
    report = json.loads(stdout)
    assert {"schema", "input", "network", "layout", "cost", "schedule", "timing"} <= set(report)
    assert "verification" not in report  # not asked for
    with open(tmp_path / "OUT.qpy", "rb") as handle:
        (circuit,) = qpy.load(handle)
    assert sum(1 for inst in circuit.data if inst.operation.name == "epr") == report["cost"]["ebits"]
    assert circuit.metadata["dqc_layout"] == report["layout"]
    # and dqc verify reads QPY, with the layout from its metadata
    code, stdout, stderr = run_cli(capsys, "verify", QFT4, tmp_path / "OUT.qpy")
    assert code == 0, stderr


GHZ8 = ROOT / "benchmarks" / "circuits" / "ghz_8.qasm"
QFT8 = ROOT / "benchmarks" / "circuits" / "qft_noswap_8.qasm"


def test_compile_qasm2_output(tmp_path, capsys):
    """``--qasm2``: one-bit registers for tested bits, ``if (m == 1) gate;``; loads back and verifies."""
    out, report_path = tmp_path / "OUT.qasm", tmp_path / "R.json"
    code, stdout, stderr = run_cli(capsys, "compile", QFT8, "--qpus", 2, "-o", out, "--qasm2", "--report", report_path)
    assert code == 0, stderr
    text = out.read_text()
    assert text.startswith("OPENQASM 2.0;\n// dqc-layout: ")
    ifs = [line for line in text.splitlines() if line.startswith("if")]
    assert ifs and all(re.fullmatch(r"if \((\w+) == 1\) [xz] \w+\[\d+\];", line) for line in ifs), ifs
    tested = {re.match(r"if \((\w+)", line).group(1) for line in ifs}
    assert all(f"creg {name}[1];" in text for name in tested)  # every tested register is one bit
    assert any(re.fullmatch(r"qpu\d_m\d+", name) for name in tested)  # qpu0_m bit 1 became creg qpu0_m1[1]
    circuit = qasm2.loads(text, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
    report = json.loads(report_path.read_text())
    assert circuit.count_ops()["epr"] == report["cost"]["ebits"]
    assert all(len(i.operation.condition[0]) == 1 for i in circuit.data if i.operation.name == "if_else")
    code, stdout, stderr = run_cli(capsys, "verify", QFT8, out, "--json")
    assert code == 0, stderr
    assert json.loads(stdout)["equivalent"] is True
    broken = write(tmp_path / "broken.qasm", text.replace(ifs[0] + "\n", "", 1))
    code, stdout, stderr = run_cli(capsys, "verify", QFT8, broken)
    assert code == 1, (stdout, stderr)


@pytest.mark.parametrize("argv, fragment", [(["--qasm2"], "--qasm2"), (["--qasm2", "-o", "OUT.qpy"], "--qasm2")])
def test_qasm2_needs_an_openqasm_output(tmp_path, capsys, argv, fragment):
    argv = [tmp_path / a if a.endswith(".qpy") else a for a in argv]
    code, stdout, stderr = run_cli(capsys, "compile", QFT4, "--qpus", 2, *argv)
    assert_one_line_error(code, stdout, stderr, fragment)
    assert not list(tmp_path.iterdir())


def test_compile_qpy_input(tmp_path, capsys):
    """``dqc compile IN.qpy``: QPY in (OpenQASM 3 and 2 out), and ``dqc verify`` against the QPY original."""
    original = load_circuit(GHZ8)
    source = tmp_path / "IN.qpy"
    with open(source, "wb") as handle:
        qpy.dump(original, handle)
    for extra in ([], ["--qasm2"]):
        out = tmp_path / f"OUT{len(extra)}.qasm"
        code, stdout, stderr = run_cli(capsys, "compile", source, "--qpus", 3, "-o", out, "--verify", *extra)
        assert code == 0, stderr
        assert "verification: equivalent" in stdout
        code, stdout, stderr = run_cli(capsys, "verify", source, out)
        assert code == 0, stderr


def test_compile_seed_is_reproducible(tmp_path, capsys):
    qft8 = ROOT / "benchmarks" / "circuits" / "qft_noswap_8.qasm"
    runs = []
    for i in range(2):
        out, rep = tmp_path / f"OUT{i}.qasm", tmp_path / f"R{i}.json"
        code, _, stderr = run_cli(capsys, "compile", qft8, "--qpus", 3, "--seed", 7, "-o", out, "--report", rep)
        assert code == 0, stderr
        report = json.loads(rep.read_text())
        report.pop("timing")
        runs.append((out.read_bytes(), report))
    assert runs[0][0] == runs[1][0]  # byte-identical OpenQASM 3
    assert runs[0][1] == runs[1][1]  # the same report, timing aside


def test_verify_good(compiled, capsys):
    tmp, proc = compiled
    assert proc.returncode == 0, proc.stderr
    code, stdout, stderr = run_cli(capsys, "verify", QFT4, tmp / "OUT.qasm")
    assert code == 0, stderr
    assert "equivalent" in stdout and all(line.startswith("dqc: [") for line in stderr.splitlines())
    code, stdout, stderr = run_cli(capsys, "verify", QFT4, tmp / "OUT.qasm", "--json", "--method", "exact")
    assert code == 0, stderr
    verdict = json.loads(stdout)
    assert verdict["equivalent"] is True
    assert isinstance(verdict["method"], str) and verdict["method"]
    assert isinstance(verdict["checks"], list) and verdict["checks"]
    assert all(check["figure"] == pytest.approx(1.0, abs=1e-9) for check in verdict["checks"])


def test_verify_reads_layout_from_report(compiled, tmp_path, capsys):
    tmp, _ = compiled
    text = (tmp / "OUT.qasm").read_text()
    assert "// dqc-layout: " in text
    bare = write(tmp_path / "bare.qasm", "".join(l for l in text.splitlines(True) if not l.startswith("// dqc-layout: ")))
    report = json.loads((tmp / "R.json").read_text())
    report.pop("verification")
    report_path = write(tmp_path / "R.json", json.dumps(report))

    # without a layout the distributed file is unusable ...
    code, stdout, stderr = run_cli(capsys, "verify", QFT4, bare)
    assert_one_line_error(code, stdout, stderr, "layout")
    # ... with the report it verifies, and the report records the verdict
    code, stdout, stderr = run_cli(capsys, "verify", QFT4, bare, "--report", report_path)
    assert code == 0, stderr
    assert json.loads(report_path.read_text())["verification"]["equivalent"] is True
    # the report's layout wins over the file's comment: a wrong one in the report is caught
    initial = report["layout"]["initial"]
    report["layout"] = {"initial": initial[1:] + initial[:1], "final": report["layout"]["final"]}
    write(report_path, json.dumps(report))
    code, stdout, stderr = run_cli(capsys, "verify", QFT4, tmp / "OUT.qasm", "--report", report_path)
    assert code == 1, (stdout, stderr)
    assert json.loads(report_path.read_text())["verification"]["equivalent"] is False


def test_verify_not_equivalent_exit_1(compiled, tmp_path, capsys):
    tmp, _ = compiled
    text = (tmp / "OUT.qasm").read_text()
    broken = write(tmp_path / "broken.qasm", text.replace("cp(pi/2)", "cp(-pi/2)", 1))
    assert broken.read_text() != text
    code, stdout, stderr = run_cli(capsys, "verify", QFT4, broken)
    assert code == 1, stderr
    assert "NOT equivalent" in stdout


@pytest.mark.parametrize("method", ["exact", "stabilizer", "random"])
def test_verify_json_exit_codes_per_method(compiled, tmp_path, capsys, method):
    """``dqc verify --json --method M``: 0 on the compiler's output, 1 on a broken one, 2 on an unreadable one."""
    tmp, _ = compiled
    text = (tmp / "OUT.qasm").read_text()
    broken = write(tmp_path / "broken.qasm", re.sub(r"if \(\w+\[\d+\]\) \{\n\s*[xz] [^\n]*\n\}\n", "", text, count=1))
    assert broken.read_text() != text  # a correction dropped: every check must see it
    garbled = write(tmp_path / "garbled.qasm", text.replace("epr ", "epr(", 1))
    expected = [(tmp / "OUT.qasm", 0, True), (broken, 1, False)]
    for path, want, equivalent in expected:
        code, stdout, stderr = run_cli(capsys, "verify", QFT4, path, "--json", "--method", method, "--seed", 1)
        assert code == want, (path.name, stdout, stderr)
        verdict = json.loads(stdout)
        assert verdict["equivalent"] is equivalent and method.replace("exact", "choi").replace("random", "product") in verdict["method"]
    code, stdout, stderr = run_cli(capsys, "verify", QFT4, garbled, "--json", "--method", method)
    assert_one_line_error(code, stdout, stderr, "garbled.qasm:")


def test_verify_bad_input(compiled, tmp_path, capsys):
    tmp, _ = compiled
    out = tmp / "OUT.qasm"
    garbled = write(tmp_path / "garbled.qasm", "OPENQASM 3.0;\nqubit[2] q;\nthis is not qasm;\n")
    binary = tmp_path / "binary.qpy"
    binary.write_bytes(b"\x00\x01not qpy at all")
    wrong = write(tmp_path / "wrong.json", json.dumps({"layout": {"initial": [], "final": []}}))
    nolayout = write(tmp_path / "nolayout.json", json.dumps({"schema": 1}))
    badjson = write(tmp_path / "bad.json", "{\n\n  oops\n}")
    cases = [
        ([QFT4, tmp_path / "absent.qasm"], ["absent.qasm", "not found"]),
        ([QFT4, garbled], ["garbled.qasm:3:"]),
        ([QFT4, binary], ["binary.qpy", "QPY"]),
        ([tmp_path / "absent.qasm", out], ["absent.qasm", "not found"]),
        ([QFT4, out, "--report", tmp_path / "absent.json"], ["absent.json", "not found"]),
        ([QFT4, out, "--report", badjson], ["bad.json:3:"]),
        ([QFT4, out, "--report", nolayout], ["nolayout.json", "layout"]),
        ([QFT4, out, "--report", wrong], ["wrong.json", "layout"]),
        ([QFT4, out, "--report", tmp_path], [str(tmp_path)]),
    ]
    before = {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    for argv, fragments in cases:
        code, stdout, stderr = run_cli(capsys, "verify", *argv)
        assert_one_line_error(code, stdout, stderr, *fragments)
    assert {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before  # reports untouched


def test_verify_unreadable_distributed_as_subprocess(tmp_path):
    garbled = write(tmp_path / "garbled.qasm", "OPENQASM 3.0;\nqubit[2] q;\nh q[0]\nh q[1];\n")
    proc = run_subprocess("verify", QFT4, garbled)
    assert_one_line_error(proc.returncode, proc.stdout, proc.stderr, "garbled.qasm:4:")


# ---------------------------------------------------------------------- help
@pytest.mark.parametrize(
    "argv, flags",
    [
        ([], ["compile", "verify", "--version"]),
        (["compile"], ["--qpus", "--network", "--comm-qubits", "-o", "--output", "--qasm2", "--report", "--verify", "--seed",
                       "--partitioner", "--json", "exit status"]),
        (["verify"], ["ORIGINAL", "DISTRIBUTED", "--report", "--method", "--seed", "--json", "exit status"]),
    ],
)
def test_help(capsys, argv, flags):
    with pytest.raises(SystemExit) as info:
        main([*argv, "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for flag in flags:
        assert flag in text, flag


def test_help_via_console_script():
    dqc = shutil.which("dqc")
    command = [dqc] if dqc else [sys.executable, "-m", "dqc_compiler.cli"]
    proc = subprocess.run([*command, "compile", "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"--qpus", proc.stdout) and "--network" in proc.stdout


def test_no_command_prints_help_and_exits_2(capsys):
    code, stdout, _ = run_cli(capsys)
    assert code == 2
    assert "compile" in stdout and "verify" in stdout


@pytest.mark.parametrize("argv", [["compile", "x.qasm", "--qpus", "abc"], ["compile"], ["verify", "only-one.qasm"]])
def test_usage_mistakes_are_one_line_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("dqc: error:")


# ---------------------------------------------------------------------- exit codes: 3 internal error, 130 interrupted
def test_internal_error_is_exit_3_one_line(tmp_path, capsys, monkeypatch):
    import dqc_compiler.cli as cli

    def crash(*args, **kwargs):
        raise ZeroDivisionError("boom\nsecond line of the message")

    monkeypatch.setattr(cli, "compile_circuit", crash)
    monkeypatch.delenv("DQC_DEBUG", raising=False)
    code, stdout, stderr = run_cli(capsys, "compile", QFT4, "--qpus", 2, "-o", tmp_path / "OUT.qasm", "--json")
    assert code == cli.EXIT_INTERNAL_ERROR == 3
    assert stdout == "" and "Traceback" not in stderr
    assert stderr.splitlines() == [
        "dqc: internal error (ZeroDivisionError: boom); this is a bug in dqc, please report it with the "
        "command line and input (DQC_DEBUG=1 shows the traceback)"]
    assert not list(tmp_path.iterdir())
    monkeypatch.setenv("DQC_DEBUG", "1")
    code, stdout, stderr = run_cli(capsys, "compile", QFT4, "--qpus", 2)
    assert code == 3 and "Traceback" in stderr and "ZeroDivisionError" in stderr
    assert stderr.splitlines()[-1].startswith("dqc: internal error (ZeroDivisionError: boom)")


def test_verify_crash_is_not_exit_1(compiled, capsys, monkeypatch):
    """A crash in verification must not read as "not equivalent"."""
    import dqc_compiler.cli as cli

    tmp, _ = compiled

    def overflow(*args, **kwargs):
        raise OverflowError("(34, 'Numerical result out of range')")

    monkeypatch.setattr(cli, "verify", overflow)
    code, stdout, stderr = run_cli(capsys, "verify", QFT4, tmp / "OUT.qasm", "--json")
    assert code == 3 and stdout == "" and len(stderr.splitlines()) == 1 and "OverflowError" in stderr


def test_keyboard_interrupt_in_process(tmp_path, capsys, monkeypatch):
    import dqc_compiler.cli as cli

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "compile_circuit", interrupted)
    code, stdout, stderr = run_cli(capsys, "compile", QFT4, "--qpus", 2, "-o", tmp_path / "OUT.qasm")
    assert (code, stdout, stderr) == (130, "", "dqc: interrupted\n")
    assert not list(tmp_path.iterdir())


CTRL_C = """
import os, signal, sys, time
import dqc_compiler.cli as cli
def interrupted(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(30)
cli.compile_circuit = interrupted
sys.exit(cli.main(sys.argv[1:]))
"""


def test_ctrl_c_as_subprocess(tmp_path):
    """A real SIGINT during the work: exit 130, one line, no traceback, nothing written."""
    proc = subprocess.run([sys.executable, "-c", CTRL_C, "compile", str(QFT4), "--qpus", "2",
                           "-o", str(tmp_path / "OUT.qasm"), "--report", str(tmp_path / "R.json")],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 130, proc.stderr
    assert proc.stderr == "dqc: interrupted\n" and proc.stdout == ""
    assert not list(tmp_path.iterdir())


# ---------------------------------------------------------------------- --json: nothing but strict JSON on stdout
@pytest.mark.parametrize("argv", [["compile", QFT4, "--qpus", 16, "--json"],
                                  ["bound", QFT4, "--qpus", 16, "--json", "--time-limit", 20]])
def test_json_stdout_holds_only_json_even_from_c(argv, capfd):
    """METIS prints '***Cannot bisect a graph with 0 vertices!' from C on fd 1; that must not reach stdout."""
    capfd.readouterr()
    code = main([str(a) for a in argv])
    out = capfd.readouterr()
    assert code == 0, out.err
    json.loads(out.out, parse_constant=lambda c: pytest.fail(f"{c} in --json output"))
    assert out.out.lstrip().startswith("{") and out.out.rstrip().endswith("}")


def test_json_as_subprocess_with_many_qpus(tmp_path):
    proc = run_subprocess("compile", QFT4, "--qpus", 12, "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["input"]["num_qubits"] == 4


def test_non_finite_report_value_is_refused(tmp_path, capsys):
    """``"ebit_time": Infinity`` would put Infinity into the report, which is not JSON: exit 2, nothing written."""
    net = write(tmp_path / "inf.json", '{"qpus": [{"name": "a", "data_qubits": 2}, {"name": "b", "data_qubits": 2}],'
                                       ' "links": [{"between": ["a", "b"], "ebit_time": Infinity}]}')
    for extra in (["--report", tmp_path / "R.json"], ["--json"]):
        code, stdout, stderr = run_cli(capsys, "compile", QFT4, "--network", net, "-o", tmp_path / "OUT.qasm", *extra)
        assert_one_line_error(code, stdout, stderr)
        assert stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inf.json"]


def test_dumps_json_names_the_non_finite_key():
    from dqc_compiler.errors import DQCError
    from dqc_compiler.report import dumps_json

    assert json.loads(dumps_json({"a": [1, 2.5]})) == {"a": [1, 2.5]}
    with pytest.raises(DQCError, match=r"schedule\.makespan = inf"):
        dumps_json({"cost": {"ebits": 1}, "schedule": {"makespan": float("inf")}})
    with pytest.raises(DQCError, match=r"checks\[1\]\.figure = nan"):
        dumps_json({"checks": [{"figure": 1.0}, {"figure": float("nan")}]})


# ---------------------------------------------------------------------- clean one-line messages
def test_corrupt_qpy_is_one_clean_line(tmp_path, capsys):
    """qiskit's Rust QPY reader embeds a coloured backtrace in its message: the user sees one clean line."""
    from qiskit.synthesis import synth_qft_full

    good = tmp_path / "good.qpy"
    with open(good, "wb") as handle:
        qpy.dump(synth_qft_full(3), handle)
    data = good.read_bytes()
    for name, corrupt in (("half.qpy", data[: len(data) // 2]), ("tail.qpy", data[:-5]), ("short.qpy", data[:20])):
        write_bytes = tmp_path / name
        write_bytes.write_bytes(corrupt)
        code, stdout, stderr = run_cli(capsys, "compile", write_bytes, "--qpus", 2)
        line = assert_one_line_error(code, stdout, stderr, name, "QPY")
        assert line.isprintable(), repr(line)
        for junk in ("\\x1b", "\\n", "Backtrace", "formats.rs", "\u2501"):
            assert junk not in line, (junk, line)


def test_control_characters_in_a_path_are_escaped(tmp_path, capsys):
    odd = tmp_path / "odd\x1b[31mname\nline.qasm"
    code, stdout, stderr = run_cli(capsys, "compile", odd, "--qpus", 2)
    line = assert_one_line_error(code, stdout, stderr, "not found", "\\x1b", "\\n")
    assert "\x1b" not in stderr


# ---------------------------------------------------------------------- summary, presets, --comm-qubits
def test_summary_counts_gates_on_three_or_more_qubits(tmp_path, capsys):
    wide = write(tmp_path / "wide.qasm", QASM2_HEADER + "qreg q[4];\ncx q[0],q[1];\nccx q[0],q[1],q[2];\n"
                 "cswap q[1],q[2],q[3];\n")
    code, stdout, stderr = run_cli(capsys, "compile", wide, "--qpus", 2, "--report", tmp_path / "R.json")
    assert code == 0, stderr
    assert f"{wide}: 4 qubits, 1 two-qubit gate, 2 gates on 3+ qubits -> " in stdout
    source = json.loads((tmp_path / "R.json").read_text())["input"]
    assert (source["num_2q_gates"], source["num_3q_plus_gates"]) == (1, 2)
    one = write(tmp_path / "one.qasm", QASM2_HEADER + "qreg q[1];\nh q[0];\n")
    code, stdout, stderr = run_cli(capsys, "compile", one, "--qpus", 1)
    assert code == 0, stderr
    assert f"{one}: 1 qubit, 0 two-qubit gates -> " in stdout


@pytest.mark.parametrize("command", ["compile", "bound"])
@pytest.mark.parametrize("kind", ["ring", "line", "grid", "all_to_all", "star"])
def test_bare_preset_name_gets_a_hint(tmp_path, capsys, monkeypatch, command, kind):
    monkeypatch.chdir(tmp_path)
    code, stdout, stderr = run_cli(capsys, command, QFT4, "--network", kind)
    assert_one_line_error(code, stdout, stderr, f"{kind}: network file not found", "preset", "ring:K")


def test_comm_qubits_with_network_is_an_error(tmp_path, capsys):
    code, stdout, stderr = run_cli(capsys, "compile", QFT4, "--network", "line:2", "--comm-qubits", 3,
                                   "-o", tmp_path / "OUT.qasm")
    assert_one_line_error(code, stdout, stderr, "--comm-qubits applies only with --qpus", "comm=3")
    assert not list(tmp_path.iterdir())
    code, stdout, stderr = run_cli(capsys, "compile", QFT4, "--network", "line:2,comm=3", "--json")
    assert code == 0, stderr
    assert {q["comm_qubits"] for q in json.loads(stdout)["network"]["qpus"]} == {3}
    code, stdout, stderr = run_cli(capsys, "compile", QFT4, "--qpus", 2, "--comm-qubits", 3, "--json")
    assert {q["comm_qubits"] for q in json.loads(stdout)["network"]["qpus"]} == {3}


# ---------------------------------------------------------------------- docs/cli.md stays true
CLI_MD = (ROOT / "docs" / "cli.md").read_text()
_VALUED = {"-o", "--output", "--report", "--timeline", "--draw-network", "--split", "--network", "--qpus", "--seed",
           "--time-limit", "--comm-qubits", "-O", "--partitioner", "--method", "--shots", "--figure"}


def _error_examples() -> list[tuple[str, str]]:
    """``(command line, expected stderr line)`` of every ``$ dqc ...`` example in docs/cli.md that
    shows a ``dqc: error:`` and whose input files exist in the repository."""
    found = re.findall(r"^ *\$ (dqc [^\n]*)\n *(dqc: error: [^\n]*)$", CLI_MD, flags=re.MULTILINE)
    runnable = []
    for command, expected in found:
        words = command.split()[1:]
        inputs = [w for i, w in enumerate(words) if w.endswith((".qasm", ".qpy")) and words[i - 1] not in _VALUED]
        if all((ROOT / w).exists() for w in inputs):
            runnable.append((command, expected))
    return runnable


def test_cli_md_error_examples_are_true(tmp_path, capsys, monkeypatch):
    examples = _error_examples()
    assert len(examples) >= 5, examples
    for folder in ("benchmarks/circuits", "docs/examples", "docs/networks"):  # copies: a wrong answer writes there
        shutil.copytree(ROOT / folder, tmp_path / folder)
    monkeypatch.chdir(tmp_path)
    for command, expected in examples:
        before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
        capsys.readouterr()
        try:
            code = main(command.split()[1:])
        except SystemExit as exc:  # argparse usage errors
            code = exc.code
        err = capsys.readouterr().err
        assert code == 2, (command, err)
        assert err.splitlines() == [expected], command
        assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before, command


def test_cli_md_counts_the_commands():
    from dqc_compiler.cli import build_parser

    action = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    words = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}
    assert f"There are {words[len(action.choices)]} commands:" in CLI_MD
    intro = CLI_MD.split("## ", 1)[0]
    for name in action.choices:
        assert f"`dqc {name}`" in intro and f"## `dqc {name}`" in CLI_MD, name


def test_cli_md_exit_code_table_covers_every_command_and_code():
    import dqc_compiler.cli as cli
    from dqc_compiler.cli import build_parser

    action = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    table = CLI_MD.split("## Exit codes", 1)[1].strip().split("\n\n", 1)[0]
    header, _, *rows = [line for line in table.splitlines() if line.startswith("|")]
    columns = [c.strip() for c in header.strip("|").split("|")]
    assert sorted(columns[1:]) == sorted(f"`dqc {name}`" for name in action.choices)
    codes = {}
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == len(columns) and all(cells), row  # a cell for every command
        codes[int(cells[0])] = cells
    assert sorted(codes) == sorted({value for name, value in vars(cli).items() if name.startswith("EXIT_")})


def test_out_of_memory_is_exit_3_one_line(capsys, monkeypatch):
    import dqc_compiler.cli as cli

    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(cli, "compile_circuit", exhausted)
    code, stdout, stderr = run_cli(capsys, "compile", QFT4, "--qpus", 2)
    assert code == 3 and stdout == "" and len(stderr.splitlines()) == 1
    assert stderr.startswith("dqc: error: out of memory") and "Traceback" not in stderr


def test_ctrl_c_while_qiskit_loads_is_one_line_and_exit_130(monkeypatch, capsys):
    """The console script catches Ctrl-C during its own (slow) import, not only once it runs."""
    import types

    from dqc_compiler import entry

    class Interrupted(types.ModuleType):
        def __getattr__(self, name):
            raise KeyboardInterrupt

    def exit_now(code):
        raise SystemExit(code)

    monkeypatch.setitem(sys.modules, "dqc_compiler.cli", Interrupted("dqc_compiler.cli"))
    monkeypatch.setattr(entry.os, "_exit", exit_now)  # the real one would end pytest
    with pytest.raises(SystemExit) as ended:
        entry.main(["compile", "x.qasm", "--qpus", "2"])
    assert ended.value.code == 130
    assert capsys.readouterr().err == "dqc: interrupted\n"


def test_ctrl_c_while_compiling_ends_the_console_script_with_130(monkeypatch, capsys):
    """An interrupt handled by the command line also ends the process at once with 130 (not at the
    mercy of interpreter shutdown, which may turn it into death by SIGINT)."""
    from dqc_compiler import cli, entry

    def exit_now(code):
        raise SystemExit(code)

    monkeypatch.setattr(cli, "main", lambda argv=None: cli.EXIT_INTERRUPTED)
    monkeypatch.setattr(entry.os, "_exit", exit_now)
    with pytest.raises(SystemExit) as ended:
        entry.main(["compile", "x.qasm", "--qpus", "2"])
    assert ended.value.code == 130
    handlers = []
    monkeypatch.setattr(cli, "main", lambda argv=None: 0)
    monkeypatch.setattr(entry.signal, "signal", lambda sig, handler: handlers.append((sig, handler)))
    assert entry.main(["compile", "x.qasm", "--qpus", "2"]) == 0
    assert handlers == [(entry.signal.SIGINT, entry.signal.SIG_IGN)]  # done: a late Ctrl-C changes nothing


@pytest.mark.parametrize("delay", [0.2, 2.0], ids=["importing", "compiling"])
def test_sigint_to_the_console_script_is_exit_130_without_traceback(tmp_path, delay):
    """A real SIGINT while qiskit is still being imported (0.2 s in), and while compiling (2 s into a
    compile of about 5 s: the signal must not arrive after the work, when the output is already written)."""
    import signal
    import time

    grover = ROOT / "benchmarks" / "circuits" / "grover_7.qasm"
    proc = subprocess.Popen([sys.executable, "-m", "dqc_compiler.entry", "compile", str(grover), "--qpus", "4",
                             "-O", "3", "-o", str(tmp_path / "out.qasm")], stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.strip().splitlines() == ["dqc: interrupted"]
    assert not (tmp_path / "out.qasm").exists()


def _strict_json(text: str):
    """``text`` as one strict JSON document: no NaN/Infinity, nothing before or after it."""
    def refuse(constant):
        raise ValueError(f"non-strict JSON constant {constant}")
    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("k", [2, 3, 5, 8, 16, 32, 64])
@pytest.mark.parametrize("name", ["qft_noswap_4", "ghz_4", "bv_6"])
def test_json_stdout_parses_for_any_number_of_qpus(name, k, capfd):
    """With --json, stdout is one strict JSON document even when k far exceeds the qubits (METIS
    prints on file descriptor 1 when asked for more parts than vertices)."""
    from dqc_compiler import cli

    path = ROOT / "benchmarks" / "circuits" / f"{name}.qasm"
    assert cli.main(["compile", str(path), "--qpus", str(k), "--json", "--verify"]) == 0
    report = _strict_json(capfd.readouterr().out)
    assert report["verification"]["equivalent"] is True
    assert len(report["network"]["qpus"]) == k


def test_json_stdout_of_verify_and_bound_parses(tmp_path, capfd):
    from dqc_compiler import cli

    out = tmp_path / "out.qasm"
    assert cli.main(["compile", str(QFT4), "--qpus", "16", "-o", str(out)]) == 0
    capfd.readouterr()
    assert cli.main(["verify", str(QFT4), str(out), "--json"]) == 0
    assert _strict_json(capfd.readouterr().out)["equivalent"] is True
    assert cli.main(["bound", str(QFT4), "--qpus", "16", "--json"]) == 0
    assert "ebits" in json.dumps(_strict_json(capfd.readouterr().out))


def test_summary_on_a_large_network_names_only_the_qpus_used(tmp_path, capsys):
    out = tmp_path / "out.qasm"
    code, stdout, stderr = run_cli(capsys, "compile", QFT4, "--network", "line:40x1", "-o", out)
    assert code == 0, stderr
    first = stdout.splitlines()[0]
    assert first.endswith(" of 40 QPUs")
    named = re.findall(r"qpu\d+\(", first)
    assert len(named) == 4  # the four QPUs holding one qubit each, not all forty


def test_summary_on_a_small_network_names_every_qpu(tmp_path, capsys):
    out = tmp_path / "out.qasm"
    code, stdout, stderr = run_cli(capsys, "compile", QFT4, "--qpus", 3, "-o", out)
    assert code == 0, stderr
    first = stdout.splitlines()[0]
    assert len(re.findall(r"qpu\d+\(", first)) == 3 and "QPUs" not in first
