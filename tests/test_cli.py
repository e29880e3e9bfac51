"""The ``dqc`` command line: bad input gives one line and exit 2 and writes nothing; good input works."""

from __future__ import annotations

import json
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
    mid = write(tmp / "mid.qasm", QASM2_HEADER + "qreg q[2];\ncreg c[2];\nh q[0];\nmeasure q[0] -> c[0];\n"
                "cx q[0],q[1];\nmeasure q[1] -> c[1];\n")
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
        ("mid-circuit-measurement", [mid, "--qpus", 2], ["mid.qasm", "mid-circuit measurement"]),
        ("no-comm-qubits", [QFT4, "--qpus", 2, "--comm-qubits", 0], ["qft_noswap_4.qasm", "comm qubits"]),
    ]


BAD_COMPILE_IDS = [
    "missing-input", "input-is-directory", "empty-input", "qasm2-syntax", "qasm3-syntax",
    "qasm2-undefined-gate", "qasm3-undefined-gate", "qpus-zero", "qpus-negative", "comm-qubits-negative",
    "network-too-small", "network-malformed-json", "network-qpu-named-twice", "network-unknown-link-end",
    "network-not-an-object", "network-without-qpus", "network-missing", "mid-circuit-measurement", "no-comm-qubits",
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
