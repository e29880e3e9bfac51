"""`dqc verify`: progress on stderr, --time-limit, and the reasons for the method chosen."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from dqc_compiler.cli import EXIT_UNDECIDED, main

ROOT = Path(__file__).resolve().parent.parent
QFT8 = ROOT / "benchmarks" / "circuits" / "qft_noswap_8.qasm"


def _compiled(tmp_path: Path) -> Path:
    out = tmp_path / "q8.qasm"
    assert main(["compile", str(QFT8), "--qpus", "2", "-o", str(out)]) == 0
    return out


def test_progress_goes_to_stderr_when_piped(tmp_path):
    out = _compiled(tmp_path)
    run = subprocess.run([sys.executable, "-m", "dqc_compiler.cli", "verify", str(QFT8), str(out)],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0
    assert "plan: " in run.stderr and "s]" in run.stderr and "clifford/stabilizer" in run.stderr
    assert "equivalent" in run.stdout and "plan:" not in run.stdout


def test_json_verdict_says_why_and_is_quiet(tmp_path, capsys):
    out = _compiled(tmp_path)
    capsys.readouterr()
    assert main(["verify", str(QFT8), str(out), "--json"]) == 0
    captured = capsys.readouterr()
    verdict = json.loads(captured.out)
    assert verdict["equivalent"] is True and verdict["choice"] and verdict["estimate"]["choi_qubits"] == 18
    assert captured.err == ""


def test_time_limit_gives_no_verdict_exit_4(tmp_path, capsys):
    out = _compiled(tmp_path)
    code = main(["verify", str(QFT8), str(out), "--method", "exact", "--time-limit", "0.3", "--quiet"])
    assert code == EXIT_UNDECIDED == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--time-limit" in err[0]


def test_time_limit_long_enough_still_decides_and_catches_a_broken_output(tmp_path):
    out = _compiled(tmp_path)
    assert main(["verify", str(QFT8), str(out), "--time-limit", "120", "--quiet"]) == 0
    text = out.read_text()
    broken = tmp_path / "broken.qasm"
    # drop the first correction: "if (...) {\n  z ...;\n}" -> nothing
    start = text.index("if (")
    end = text.index("}", start) + 1
    broken.write_text(text[:start] + text[end:])
    assert main(["verify", str(QFT8), str(broken), "--time-limit", "120", "--quiet"]) == 1
