"""Bad and hostile input: every case ends with one line on stderr and exit 2, quickly, touching no file."""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dqc_compiler import cli
from dqc_compiler.io import MAX_CIRCUIT_QUBITS, load_circuit
from dqc_compiler.network import MAX_COMM_QUBITS, MAX_QPUS, Network

ROOT = Path(__file__).resolve().parent.parent
H2 = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n'
H3 = 'OPENQASM 3.0;\ninclude "stdgates.inc";\n'
BELL2 = H2 + "qreg q[2];\nh q[0];\ncx q[0],q[1];\n"
FOUR = H2 + "qreg q[4];\nh q[0];\ncx q[0],q[1];\ncx q[1],q[2];\ncx q[2],q[3];\n"
SECRET = "hunter2-api-key-0123456789"
TWO_QPUS = [{"name": "a", "data_qubits": 2}, {"name": "b", "data_qubits": 2}]


def _net(qpus=None, links=None, **extra) -> str:
    data = {"qpus": TWO_QPUS if qpus is None else qpus, **extra}
    if links is not None:
        data["links"] = links
    return json.dumps(data)


def _deep_gates(depth: int) -> str:
    text = H2 + "gate g0 a { h a; }\n"
    text += "".join(f"gate g{i} a {{ g{i - 1} a; }}\n" for i in range(1, depth))
    return text + f"qreg q[2];\ng{depth - 1} q[0];\ncx q[0],q[1];\n"


# (id, files to create in the work directory (name -> text or bytes), command line, what the message says)
# The work directory is the current directory while a case runs; every case also has in.qasm (BELL2),
# four.qasm (FOUR) and a secret file one directory up (../secret.txt) to include.
CASES = [
    # ------------------------------------------------------------------ the circuit file
    ("nonexistent-file", {}, ["compile", "nope.qasm", "--qpus", "2"], r"nope\.qasm: file not found"),
    ("directory-as-input", {"adir/x": "x"}, ["compile", "adir", "--qpus", "2"], r"adir: is a directory"),
    ("empty-file", {"e.qasm": ""}, ["compile", "e.qasm", "--qpus", "2"], r"e\.qasm: empty file"),
    ("comments-only", {"e.qasm": "// nothing\n/* here */\n"}, ["compile", "e.qasm", "--qpus", "2"], r"empty file"),
    ("only-a-header", {"h.qasm": H2}, ["compile", "h.qasm", "--qpus", "2"], r"h\.qasm: the circuit has no qubits"),
    ("no-qubits-qasm3", {"h.qasm": H3 + "bit[2] c;\n"}, ["compile", "h.qasm", "--qpus", "2"], r"has no qubits"),
    ("syntax-error-qasm2", {"s.qasm": H2 + "qreg q[2]\nh q[0];\n"}, ["compile", "s.qasm", "--qpus", "2"],
     r"s\.qasm:\d+: "),
    ("syntax-error-qasm3", {"s.qasm": H3 + "qubit[2] q;\nh q[0]\ncx q[0], q[1];\n"},
     ["compile", "s.qasm", "--qpus", "2"], r"s\.qasm:\d+: "),
    ("undefined-register", {"u.qasm": H2 + "qreg q[2];\nh r[0];\n"}, ["compile", "u.qasm", "--qpus", "2"],
     r"u\.qasm:4: .*'r'"),
    ("gate-arity-mismatch", {"a.qasm": H2 + "qreg q[2];\ncx q[0];\n"}, ["compile", "a.qasm", "--qpus", "2"],
     r"a\.qasm:4: "),
    ("unknown-gate", {"g.qasm": H2 + "qreg q[2];\nfoo q[0];\n"}, ["compile", "g.qasm", "--qpus", "2"],
     r"g\.qasm:4: .*foo"),
    ("duplicate-register", {"d.qasm": H2 + "qreg q[2];\nqreg q[2];\n"}, ["compile", "d.qasm", "--qpus", "2"],
     r"d\.qasm:4: "),
    ("negative-qreg-size", {"n.qasm": H2 + "qreg q[-1];\n"}, ["compile", "n.qasm", "--qpus", "2"], r"n\.qasm:3: "),
    ("index-out-of-range", {"i.qasm": H2 + "qreg q[2];\nh q[5];\n"}, ["compile", "i.qasm", "--qpus", "2"],
     r"i\.qasm:4: "),
    ("non-utf8-qasm", {"b.qasm": H2.encode() + b"qreg q[2];\n// \xff\xfe\n"}, ["compile", "b.qasm", "--qpus", "2"],
     r"b\.qasm: not a text file"),
    ("binary-qasm", {"b.qasm": bytes(range(256)) * 4}, ["compile", "b.qasm", "--qpus", "2"], r"not a text file"),
    ("opaque-gate", {"o.qasm": H2 + "opaque foo a, b;\nqreg q[2];\nfoo q[0], q[1];\n"},
     ["compile", "o.qasm", "--qpus", "2"], r"o\.qasm: operation 0 \('foo'.*opaque"),
    ("parameter-inf", {"p.qasm": H2 + "qreg q[2];\nrz(1e400) q[0];\ncx q[0],q[1];\n"},
     ["compile", "p.qasm", "--qpus", "2"], r"parameter inf is not a finite number"),
    ("parameter-nan", {"p.qasm": H2 + "qreg q[2];\nrz(1e400-1e400) q[0];\ncx q[0],q[1];\n"},
     ["compile", "p.qasm", "--qpus", "2"], r"parameter nan is not a finite number"),
    ("parameter-divide-by-zero", {"p.qasm": H2 + "qreg q[2];\nrz(1/0) q[0];\n"}, ["compile", "p.qasm", "--qpus", "2"],
     r"p\.qasm:4: "),
    ("unbound-qasm3-parameter", {"t.qasm": H3 + "input float theta;\nqubit[2] q;\nrz(theta) q[0];\ncx q[0], q[1];\n"},
     ["compile", "t.qasm", "--qpus", "2"], r"unbound parameter theta"),
    ("qasm3-for-loop-nested-too-deep", {"f.qasm": H3 + "qubit[4] q;\nbit c;\nfor int i in [0:2] {\n"
                                                      "  if (c) { if (c) { x q[i]; } }\n}\n"},
     ["compile", "f.qasm", "--qpus", "2"], r"f\.qasm:5: 'for' loops .*unroll"),
    ("qasm3-for-loop-too-long", {"f.qasm": H3 + "qubit[4] q;\nfor int i in [0:1000000000] { h q[0]; }\n"},
     ["compile", "f.qasm", "--qpus", "2"], r"f\.qasm:4: 'for' loop too long to unroll"),
    ("qasm3-while-loop", {"w.qasm": H3 + "qubit[2] q;\nbit c;\nwhile (c) { x q[0]; c = measure q[0]; }\n"},
     ["compile", "w.qasm", "--qpus", "2"], r"w\.qasm: operation 0 \('while_loop' on .*\): 'while' loops are not supported"),
    ("gate-nesting-1000-deep", {"deep.qasm": _deep_gates(1000)}, ["compile", "deep.qasm", "--qpus", "2"],
     r"deep\.qasm:\d+: gate 'g\d+' nests gate definitions"),
    ("condition-on-seven-measured-bits", {"m.qasm": H2 + "qreg q[8];\ncreg c[7];\nmeasure q[0] -> c[0];\n"
                                          "measure q[1] -> c[1];\nmeasure q[2] -> c[2];\nmeasure q[3] -> c[3];\n"
                                          "measure q[4] -> c[4];\nmeasure q[5] -> c[5];\nmeasure q[6] -> c[6];\n"
                                          "if(c==5) x q[7];\n"},
     ["compile", "m.qasm", "--qpus", "2"], r"m\.qasm: operation 7 \('if_else'\): the condition depends on 7 "
                                           r"measured bits \(c\[0\], .*\); at most 6"),
    ("declared-100000-qubits", {"big.qasm": H2 + "qreg q[100000];\ncx q[0],q[1];\n"},
     ["compile", "big.qasm", "--qpus", "2"], rf"declares 100000 qubits; at most {MAX_CIRCUIT_QUBITS}"),
    ("declared-10**12-qubits-qasm3", {"big.qasm": H3 + "qubit[1000000000000] q;\ncx q[0], q[1];\n"},
     ["compile", "big.qasm", "--qpus", "2"], r"declares 1000000000000 qubits"),
    ("dev-zero-as-input", {}, ["compile", "/dev/zero", "--qpus", "2"], r"/dev/zero: cannot read \(larger than"),
    ("huge-sparse-file", {"huge.qasm": None}, ["compile", "huge.qasm", "--qpus", "2"],
     r"huge\.qasm: cannot read \(larger than"),
    ("corrupt-qpy", {"c.qpy": b"QISKIT\x0c\x00garbage" * 10}, ["compile", "c.qpy", "--qpus", "2"],
     r"c\.qpy: not a readable QPY file"),
    ("text-as-qpy", {"t.qpy": BELL2}, ["compile", "t.qpy", "--qpus", "2"], r"t\.qpy: not a readable QPY file"),
    ("classical-register-named-like-qpu", {"n.qasm": H2 + "qreg q[2];\ncreg qpu0[2];\ncx q[0],q[1];\n"
                                           "measure q -> qpu0;\n"},
     ["compile", "n.qasm", "--qpus", "2"], r"classical register 'qpu0' has the name of a QPU"),
    # ------------------------------------------------------------------ includes
    ("include-outside-file", {"i.qasm": H2 + 'include "../secret.txt";\nqreg q[2];\n'},
     ["compile", "i.qasm", "--qpus", "2"], r'i\.qasm:3: include "\.\./secret\.txt" refused'),
    ("include-absolute-secret", {"i.qasm": H2 + 'include "{secret}";\nqreg q[2];\n'},
     ["compile", "i.qasm", "--qpus", "2"], r"i\.qasm:3: include .* refused"),
    ("include-absolute-missing", {"i.qasm": H2 + 'include "/no/such/dir/file.inc";\nqreg q[2];\n'},
     ["compile", "i.qasm", "--qpus", "2"], r"i\.qasm:3: include .* refused"),
    ("include-etc-shadow", {"i.qasm": H2 + 'include "/etc/shadow";\nqreg q[2];\n'},
     ["compile", "i.qasm", "--qpus", "2"], r"i\.qasm:3: include .* refused"),
    ("include-local-non-circuit", {"i.qasm": H2 + 'include "key.inc";\nqreg q[2];\n', "key.inc": SECRET + "\n"},
     ["compile", "i.qasm", "--qpus", "2"], r"included file 'key\.inc' is not valid OpenQASM 2"),
    ("include-nested-outside", {"i.qasm": H2 + 'include "a.inc";\nqreg q[2];\n', "a.inc": 'include "../secret.txt";\n'},
     ["compile", "i.qasm", "--qpus", "2"], r'include "\.\./secret\.txt" refused'),
    # ------------------------------------------------------------------ the network
    ("network-file-not-found", {}, ["compile", "in.qasm", "--network", "nonet.json"], r"nonet\.json: network file not found"),
    ("network-directory", {"ndir/x": "x"}, ["compile", "in.qasm", "--network", "ndir"], r"ndir: is a directory"),
    ("network-binary", {"n.json": b"\xff\xfe\x00\x01binary"}, ["compile", "in.qasm", "--network", "n.json"],
     r"n\.json: not a text file"),
    ("network-not-json", {"n.json": "{qpus: 2"}, ["compile", "in.qasm", "--network", "n.json"],
     r"n\.json:1: malformed network JSON"),
    ("network-not-an-object", {"n.json": "[1, 2]"}, ["compile", "in.qasm", "--network", "n.json"],
     r"expected a JSON object"),
    ("network-missing-qpus", {"n.json": "{}"}, ["compile", "in.qasm", "--network", "n.json"], r"'qpus' must be"),
    ("network-missing-data-qubits", {"n.json": _net([{"name": "a"}])}, ["compile", "in.qasm", "--network", "n.json"],
     r"missing 'data_qubits'"),
    ("network-link-to-unknown-qpu", {"n.json": _net(links=[["a", "z"]])}, ["compile", "in.qasm", "--network", "n.json"],
     r"names unknown QPU 'z'"),
    ("network-self-link", {"n.json": _net(links=[["a", "a"]])}, ["compile", "in.qasm", "--network", "n.json"],
     r"joins a QPU to itself"),
    ("network-duplicate-qpu", {"n.json": _net([{"name": "a", "data_qubits": 2}] * 2)},
     ["compile", "in.qasm", "--network", "n.json"], r"QPU 'a' is named twice"),
    ("network-disconnected", {"n.json": _net(links=[])}, ["compile", "four.qasm", "--network", "n.json"],
     r"no path of links"),
    ("circuit-too-big-for-network", {"n.json": _net([{"name": "a", "data_qubits": 1}, {"name": "b", "data_qubits": 1}])},
     ["compile", "four.qasm", "--network", "n.json"], r"4 qubits but the network .* holds only 2"),
    ("network-ebit-time-infinity", {"n.json": '{"qpus": %s, "links": [{"between": ["a", "b"], "ebit_time": Infinity}]}'
                                    % json.dumps(TWO_QPUS)},
     ["compile", "in.qasm", "--network", "n.json"], r"links\[0\]\.ebit_time: .*got inf"),
    ("network-ebit-time-nan", {"n.json": '{"qpus": %s, "links": [{"between": ["a", "b"], "ebit_time": NaN}]}'
                               % json.dumps(TWO_QPUS)},
     ["compile", "in.qasm", "--network", "n.json"], r"links\[0\]\.ebit_time: .*got nan"),
    ("network-ebit-time-negative", {"n.json": _net(links=[{"between": ["a", "b"], "ebit_time": -1}])},
     ["compile", "in.qasm", "--network", "n.json"], r"links\[0\]\.ebit_time: .*got -1"),
    ("network-t1-infinity", {"n.json": '{"qpus": [{"name": "a", "data_qubits": 2, "t1": Infinity}]}'},
     ["compile", "in.qasm", "--network", "n.json"], r"qpus\[0\]\.t1: .*got inf"),
    ("network-comm-qubits-1e7", {"n.json": _net([{"name": "a", "data_qubits": 2, "comm_qubits": 1e7}])},
     ["compile", "in.qasm", "--network", "n.json"], r"qpus\[0\]\.comm_qubits: expected an integer"),
    ("network-comm-qubits-10**7", {"n.json": _net([{"name": "a", "data_qubits": 2, "comm_qubits": 10**7}])},
     ["compile", "in.qasm", "--network", "n.json"], rf"comm_qubits: 10000000 is more than the supported {MAX_COMM_QUBITS}"),
    ("network-1000-qpus", {"n.json": _net([{"name": f"p{i}", "data_qubits": 1} for i in range(1000)])},
     ["compile", "in.qasm", "--network", "n.json"], rf"1000 QPUs, at most {MAX_QPUS}"),
    ("network-huge-file", {"n.json": None}, ["compile", "in.qasm", "--network", "n.json"], r"larger than the"),
    # ------------------------------------------------------------------ options
    ("qpus-zero", {}, ["compile", "in.qasm", "--qpus", "0"], r"--qpus must be a positive integer"),
    ("qpus-10**9", {}, ["compile", "in.qasm", "--qpus", "1000000000"], rf"1000000000 QPUs: at most {MAX_QPUS}"),
    ("qpus-2**70", {}, ["compile", "in.qasm", "--qpus", str(2**70)], rf"{2**70} QPUs: at most {MAX_QPUS}"),
    ("comm-qubits-10**7", {}, ["compile", "in.qasm", "--qpus", "2", "--comm-qubits", "10000000"],
     rf"10000000 comm qubits per QPU: at most {MAX_COMM_QUBITS}"),
    ("comm-qubits-negative", {}, ["compile", "in.qasm", "--qpus", "2", "--comm-qubits", "-1"], r"--comm-qubits must be"),
    ("preset-line-1000000x1", {}, ["compile", "in.qasm", "--network", "line:1000000x1"], r"1000000 QPUs, at most"),
    ("preset-all-to-all-100000", {}, ["compile", "in.qasm", "--network", "all_to_all:100000"], r"100000 QPUs, at most"),
    ("preset-comm-10**7", {}, ["compile", "in.qasm", "--network", "line:2x2,comm=10000000"], r"comm qubits per QPU"),
    ("preset-not-understood", {}, ["compile", "in.qasm", "--network", "ring:x"], r"network preset 'ring:x' not understood"),
    ("seed-2**64-compile", {}, ["compile", "in.qasm", "--qpus", "2", "--seed", str(2**64)], r"argument --seed"),
    ("seed-2**64-verify", {}, ["verify", "in.qasm", "in.qasm", "--seed", str(2**64)], r"argument --seed"),
    ("seed-negative", {}, ["compile", "in.qasm", "--qpus", "2", "--seed", "-1"], r"argument --seed"),
    ("seed-not-a-number", {}, ["compile", "in.qasm", "--qpus", "2", "--seed", "abc"], r"argument --seed"),
    ("level-out-of-range", {}, ["compile", "in.qasm", "--qpus", "2", "-O", "7"], r"argument -O"),
    ("qasm2-without-output", {}, ["compile", "in.qasm", "--qpus", "2", "--qasm2"], r"--qasm2 needs"),
    ("output-in-missing-directory", {}, ["compile", "in.qasm", "--qpus", "2", "-o", "nodir/out.qasm"],
     r"directory 'nodir' does not exist"),
    # ------------------------------------------------------------------ verify
    ("verify-distributed-missing", {}, ["verify", "in.qasm", "nope.qasm"], r"nope\.qasm: file not found"),
    ("verify-no-layout", {}, ["verify", "in.qasm", "in.qasm"], r"carries no layout"),
    ("verify-report-not-json", {"r.json": "{"}, ["verify", "in.qasm", "in.qasm", "--report", "r.json"],
     r"r\.json:1: malformed report JSON"),
]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """An input directory inside ``tmp_path`` (which also holds a secret file), as the current directory."""
    (tmp_path / "secret.txt").write_text(SECRET + "\n")
    work = tmp_path / "work"
    work.mkdir()
    (work / "in.qasm").write_text(BELL2)
    (work / "four.qasm").write_text(FOUR)
    monkeypatch.chdir(work)
    return work


def _create(work: Path, files: dict) -> None:
    for name, content in files.items():
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is None:  # a file too large to read: sparse, so it costs no disk
            with open(path, "wb") as handle:
                handle.truncate(200 * 1024 * 1024)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content.replace("{secret}", str(work.parent / "secret.txt")), encoding="utf-8")


def _snapshot(root: Path) -> dict:
    """Every file under ``root`` with its bytes (a digest for big ones) and mode."""
    state = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        if path.is_file() and info.st_size > 1024 * 1024:
            state[str(path)] = (info.st_size, info.st_mode, info.st_mtime_ns)
        else:
            state[str(path)] = (path.read_bytes() if path.is_file() else None, info.st_mode)
    return state


@pytest.mark.parametrize("name, files, argv, message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_exit_2(workdir, capfd, name, files, argv, message):
    _create(workdir, files)
    before = _snapshot(workdir.parent)
    start = time.perf_counter()
    with pytest.raises(SystemExit) if argv[-2:-1] in (["--seed"], ["-O"]) else _no_exit() as caught:
        code = cli.main(argv)
    if caught is not None and getattr(caught, "value", None) is not None:
        code = caught.value.code
    seconds = time.perf_counter() - start
    out, err = capfd.readouterr()
    assert code == 2, err
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("dqc: error: ")
    assert "Traceback" not in err
    assert re.search(message, lines[0]), lines[0]
    assert SECRET not in err and "hunter2" not in err
    assert seconds < 5, f"{name} took {seconds:.1f}s"
    assert _snapshot(workdir.parent) == before


class _no_exit:
    """A context manager that catches nothing (the counterpart of ``pytest.raises(SystemExit)``)."""

    value = None

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def test_at_least_45_classes():
    assert len({name for name, *_ in CASES}) == len(CASES) >= 45


def test_refused_includes_say_the_same_whether_the_file_exists(workdir, capfd):
    """"Unable to find" versus a parse error would tell which outside files exist: both are refused alike."""
    messages = []
    for target in (str(workdir.parent / "secret.txt"), str(workdir.parent / "no-such-file.txt")):
        (workdir / "i.qasm").write_text(H2 + f'include "{target}";\nqreg q[2];\n')
        assert cli.main(["compile", "i.qasm", "--qpus", "2"]) == 2
        messages.append(capfd.readouterr().err.replace(target, "TARGET"))
    assert messages[0] == messages[1]


def test_include_path_allows_a_directory(workdir, capfd):
    lib = workdir.parent / "lib"
    lib.mkdir()
    (lib / "mine.inc").write_text("gate myh a { h a; }\n")
    (workdir / "i.qasm").write_text(H2 + 'include "mine.inc";\nqreg q[2];\nmyh q[0];\ncx q[0],q[1];\n')
    assert cli.main(["compile", "i.qasm", "--qpus", "2"]) == 2
    assert 'include "mine.inc" not found' in capfd.readouterr().err
    assert load_circuit(workdir / "i.qasm", include_path=[lib]).count_ops()["myh"] == 1
    assert cli.main(["compile", "i.qasm", "--qpus", "2", "--include-path", str(lib), "-o", "i_out.qasm"]) == 0
    assert cli.main(["verify", "i.qasm", "i_out.qasm", "--include-path", str(lib), "--quiet"]) == 0
    assert cli.main(["verify", "i.qasm", "i_out.qasm", "--quiet"]) == 2  # the include is needed to read i.qasm
    (workdir / "local.inc").write_text("gate myx a { x a; }\n")
    (workdir / "j.qasm").write_text(H2 + 'include "local.inc";\nqreg q[2];\nmyx q[0];\ncx q[0],q[1];\n')
    assert cli.main(["compile", "j.qasm", "--qpus", "2"]) == 0


def test_unicode_register_names_round_trip_through_verify(workdir, capfd):
    """The compiler's own output verifies against its input (a register named ß), and a broken one does not."""
    (workdir / "s.qasm").write_text(H3 + "qubit[2] q;\nbit[2] ß;\nh q[0];\ncx q[0], q[1];\nß = measure q;\n",
                                    encoding="utf-8")
    assert cli.main(["compile", "s.qasm", "--qpus", "2", "-o", "out.qasm", "--verify"]) == 0
    assert cli.main(["verify", "s.qasm", "out.qasm"]) == 0
    text = (workdir / "out.qasm").read_text()
    first = text.index(" = measure ")
    line_start = text.rindex("\n", 0, first) + 1
    broken = text[:line_start] + "x " + text[text.index("measure ", first) + 8:text.index(";", first)] + ";\n" + text[line_start:]
    (workdir / "broken.qasm").write_text(broken)
    capfd.readouterr()
    assert cli.main(["verify", "s.qasm", "broken.qasm"]) == 1


def test_many_qpus_json_stdout_is_only_json(workdir, capfd):
    """METIS complains on fd 1 when asked for more parts than vertices; --json must stay parseable."""
    for k in (16, 64):
        assert cli.main(["compile", "four.qasm", "--qpus", str(k), "--json"]) == 0
        out, err = capfd.readouterr()
        assert json.loads(out)["cost"]["ebits"] == 3
        assert "Cannot bisect" not in out + err


def test_idle_qubits_and_unused_qpus_cost_almost_nothing(workdir, capfd):
    (workdir / "wide.qasm").write_text(H2 + "qreg q[2000];\ncx q[0],q[1999];\n")
    start = time.perf_counter()
    assert cli.main(["compile", "wide.qasm", "--qpus", "2", "--json"]) == 0
    assert time.perf_counter() - start < 3
    assert json.loads(capfd.readouterr().out)["cost"]["ebits"] <= 1
    (workdir / "net.json").write_text(_net([{"name": f"p{i}", "data_qubits": 1} for i in range(200)]))
    for spec in (["--qpus", "200"], ["--network", "net.json"]):
        start = time.perf_counter()
        assert cli.main(["compile", "four.qasm", *spec, "--json"]) == 0
        assert time.perf_counter() - start < 3, spec
        assert json.loads(capfd.readouterr().out)["cost"]["ebits"] == 3


def test_many_qpu_network_routes_are_lazy():
    network = Network.from_spec("line:200x1")
    assert network.distance(0, 199) == 199
    assert network.route(199, 0).path == tuple(reversed(network.route(0, 199).path))
    assert len(network._tables()["routes"]) == 1  # one search, from the lower end


# ---------------------------------------------------------------------- a few as real processes, memory bounded
#: Address space of each process: a good run (qiskit, aer, numpy imported, single-threaded BLAS) needs
#: well under 1 GB of it; the bad cases must fail cleanly inside it rather than allocate their sizes.
MEMORY_LIMIT = 1536 * 1024**2
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def _limited():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


SUBPROCESS_CASES = [
    ["compile", "/dev/zero", "--qpus", "2"],
    ["compile", "big.qasm", "--qpus", "2"],
    ["compile", "in.qasm", "--qpus", str(2**70)],
    ["compile", "in.qasm", "--network", "all_to_all:100000"],
    ["compile", "in.qasm", "--qpus", "2", "--comm-qubits", "10000000"],
    ["compile", "in.qasm", "--qpus", "2", "--seed", str(2**64)],
]


@pytest.mark.parametrize("argv", SUBPROCESS_CASES, ids=lambda a: " ".join(a[1:])[:40])
def test_bad_input_as_a_process(workdir, argv):
    (workdir / "big.qasm").write_text(H2 + "qreg q[100000];\ncx q[0],q[1];\n")
    before = _snapshot(workdir.parent)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "dqc_compiler.cli", *argv], capture_output=True, text=True,
                          timeout=60, env=ENV, preexec_fn=_limited)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stdout == ""
    assert time.perf_counter() - start < 10  # < 5 s of work plus the interpreter's start on a busy machine
    assert _snapshot(workdir.parent) == before
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss < 500 * 1024  # kB: under 500 MB resident


def test_a_good_run_fits_the_memory_limit(workdir):
    """The limit above is not so tight that a normal compilation fails: the bad cases prove something."""
    done = subprocess.run([sys.executable, "-m", "dqc_compiler.cli", "compile", "four.qasm", "--qpus", "2", "--verify"],
                          capture_output=True, text=True, timeout=60, env=ENV, preexec_fn=_limited)
    assert done.returncode == 0, done.stderr


def test_named_pipes_are_read_up_to_the_limit(workdir, capfd):
    """A pipe has no size to check first: it is read up to the limit, then refused; a small one loads."""
    import threading

    def feed(path: Path, data: bytes) -> None:
        try:
            with open(path, "wb") as handle:
                handle.write(data)
        except BrokenPipeError:  # the reader stopped at the limit, as it should
            pass

    for name, data, code in (("good.fifo", FOUR.encode(), 0), ("huge.fifo", b"\0" * (33 * 1024 * 1024), 2)):
        os.mkfifo(workdir / name)
        writer = threading.Thread(target=feed, args=(workdir / name, data))
        writer.start()
        assert cli.main(["compile", name, "--qpus", "2"]) == code
        writer.join(timeout=10)
        err = capfd.readouterr().err
        assert (err == "") if code == 0 else ("larger than the 32 MiB limit" in err and len(err.splitlines()) == 1)


def _reference_refine(graph, parts, capacities, max_passes=50):
    """``partition.refine`` as first written: a scalar double loop over all pairs."""
    import numpy as np

    from dqc_compiler.passes.partition import _connections, _move

    parts, k, n = list(parts), len(capacities), len(parts)
    sizes = [parts.count(j) for j in range(k)]
    conn = _connections(graph, parts, k)
    for _ in range(max_passes):
        improved = False
        for v in range(n):
            src = parts[v]
            gains = conn[v] - conn[v, src]
            for dst in np.argsort(-gains, kind="stable"):
                dst = int(dst)
                if gains[dst] <= 0:
                    break
                if dst != src and sizes[dst] < capacities[dst]:
                    _move(graph, parts, conn, sizes, v, dst)
                    improved = True
                    break
        for v in range(n):
            for u in range(v + 1, n):
                a, b = parts[v], parts[u]
                if a == b:
                    continue
                w = graph[v][u]["weight"] if graph.has_edge(v, u) else 0
                if (conn[v, b] - conn[v, a]) + (conn[u, a] - conn[u, b]) - 2 * w > 0:
                    _move(graph, parts, conn, sizes, v, b)
                    _move(graph, parts, conn, sizes, u, a)
                    improved = True
        if not improved:
            break
    return parts


def test_vectorised_refine_matches_the_double_loop():
    """The swap pass scans each qubit's partners at once, and skips idle qubits, with the same result."""
    import random

    import networkx as nx

    from dqc_compiler.passes.partition import refine

    rng = random.Random(3)
    for _ in range(60):
        n, k = rng.randint(2, 24), rng.randint(2, 4)
        graph = nx.Graph()
        graph.add_nodes_from(range(n))
        active = rng.sample(range(n), rng.randint(1, n))  # the others stay idle
        for _ in range(rng.randint(0, 3 * n)):
            a, b = rng.sample(active, 2) if len(active) > 1 else (active[0], active[0])
            if a != b:
                graph.add_edge(a, b, weight=rng.randint(1, 5))
        capacities = [-(-n // k)] * k
        parts = [rng.randrange(k) for _ in range(n)]
        while any(parts.count(j) > c for j, c in enumerate(capacities)):
            parts = [rng.randrange(k) for _ in range(n)]
        assert refine(graph, parts, capacities) == _reference_refine(graph, parts, capacities)


def test_constant_for_loops_are_unrolled(workdir, capfd):
    """``for`` over a constant range or set loads as the loop written out (ends inclusive), and verifies."""
    (workdir / "f.qasm").write_text(H3 + "qubit[4] q;\nh q[0];\nfor int i in [0:2] {\n  cx q[i], q[i+1];\n}\n"
                                    "for uint j in {3, 1} { rz(j * 0.5) q[j]; }\n")
    loaded = load_circuit(workdir / "f.qasm")
    assert [(i.operation.name, [loaded.find_bit(q).index for q in i.qubits]) for i in loaded.data] == [
        ("h", [0]), ("cx", [0, 1]), ("cx", [1, 2]), ("cx", [2, 3]), ("rz", [3]), ("rz", [1])]
    assert [float(i.operation.params[0]) for i in loaded.data[-2:]] == [1.5, 0.5]
    assert cli.main(["compile", "f.qasm", "--qpus", "2", "--verify"]) == 0
