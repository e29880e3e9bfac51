"""Output paths of ``dqc compile``: refused cases leave every file byte-identical; writes are all or nothing."""

from __future__ import annotations

import errno
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dqc_compiler import io as dqc_io
from dqc_compiler.cli import main
from dqc_compiler.errors import DQCError
from dqc_compiler.io import commit_outputs, write_atomically

ROOT = Path(__file__).resolve().parent.parent
QFT4 = ROOT / "benchmarks" / "circuits" / "qft_noswap_4.qasm"
NETWORK = '{"qpus": [{"name": "a", "data_qubits": 2}, {"name": "b", "data_qubits": 2}]}\n'


def snapshot(directory: Path) -> dict:
    """Every entry under ``directory``: symlink target, or content and permission bits, by relative path."""
    found = {}
    for path in sorted(directory.rglob("*")):
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            found[str(path.relative_to(directory))] = ("link", os.readlink(path))
        elif stat.S_ISDIR(info.st_mode):
            found[str(path.relative_to(directory))] = ("dir", stat.S_IMODE(info.st_mode))
        elif stat.S_ISREG(info.st_mode):
            found[str(path.relative_to(directory))] = ("file", path.read_bytes(), stat.S_IMODE(info.st_mode),
                                                       info.st_ino)
        else:
            found[str(path.relative_to(directory))] = ("other", stat.S_IFMT(info.st_mode))
    return found


@pytest.fixture
def work(tmp_path, monkeypatch):
    """A directory with an input, a network file, existing outputs (odd modes), links and a split directory."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(QFT4, tmp_path / "in.qasm")
    (tmp_path / "net.json").write_text(NETWORK)
    (tmp_path / "old.qasm").write_text("// an earlier output\n")
    (tmp_path / "old.qasm").chmod(0o640)
    (tmp_path / "old.json").write_text('{"earlier": true}\n')
    (tmp_path / "old.json").chmod(0o604)
    os.symlink("in.qasm", tmp_path / "link-to-in.qasm")
    os.symlink("in.qasm", tmp_path / "link-to-in.svg")
    os.symlink("old.qasm", tmp_path / "link-to-old.qasm")
    os.link(tmp_path / "in.qasm", tmp_path / "hard-in.qasm")
    (tmp_path / "split").mkdir()
    os.symlink("../in.qasm", tmp_path / "split" / "qpu1.qasm")
    (tmp_path / "sub").mkdir()
    return tmp_path


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_refused(code: int, stdout: str, stderr: str, *fragments: str) -> None:
    assert code == 2, (code, stdout, stderr)
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("dqc: error: "), stderr
    assert "Traceback" not in stderr and stdout == ""
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert ".dqc-tmp" not in lines[0] and ".dqc-old" not in lines[0]


COMPILE = ["compile", "in.qasm", "--qpus", "2"]

REFUSED = {
    "output-is-input": (COMPILE + ["-o", "in.qasm"], ["in.qasm: is the input file"]),
    "output-is-input-respelled": (COMPILE + ["-o", "sub/../in.qasm"], ["same file as the input in.qasm"]),
    "output-is-input-absolute": (COMPILE + ["-o", "{tmp}/in.qasm"], ["same file as the input in.qasm"]),
    "output-symlink-to-input": (COMPILE + ["-o", "link-to-in.qasm"], ["link-to-in.qasm", "input in.qasm"]),
    "output-hard-link-of-input": (COMPILE + ["-o", "hard-in.qasm"], ["hard-in.qasm", "input in.qasm"]),
    "input-through-symlink": (["compile", "link-to-in.qasm", "--qpus", 2, "-o", "in.qasm"],
                              ["in.qasm", "input link-to-in.qasm"]),
    "report-is-input": (COMPILE + ["-o", "new.qasm", "--report", "in.qasm"], ["in.qasm: is the input file"]),
    "picture-is-input": (COMPILE + ["--timeline", "link-to-in.svg"], ["link-to-in.svg", "input in.qasm"]),
    "network-picture-is-input": (COMPILE + ["--draw-network", "link-to-in.svg"], ["link-to-in.svg"]),
    "report-is-network-file": (["compile", "in.qasm", "--network", "net.json", "--report", "net.json"],
                               ["net.json: is the input file"]),
    "output-equals-report": (COMPILE + ["-o", "new.qasm", "--report", "new.qasm"], ["new.qasm: given for two outputs"]),
    "existing-output-equals-report": (COMPILE + ["-o", "old.qasm", "--report", "old.qasm"], ["old.qasm: given for two"]),
    "report-symlink-to-output": (COMPILE + ["-o", "old.qasm", "--report", "link-to-old.qasm"],
                                 ["link-to-old.qasm", "output old.qasm"]),
    "output-respelled-report": (COMPILE + ["-o", "new.qasm", "--report", "sub/../new.qasm"], ["output new.qasm"]),
    "timeline-equals-network-picture": (COMPILE + ["--timeline", "t.svg", "--draw-network", "./t.svg"], ["t.svg"]),
    "split-file-is-input": (COMPILE + ["--split", "split"], ["split/qpu1.qasm", "input in.qasm"]),
    "split-file-is-output": (COMPILE + ["-o", "split/qpu0.qasm", "--split", "split"], ["split/qpu0.qasm", "two outputs"]),
    "qpy-output-is-input": (["compile", "in.qpy", "--qpus", 2, "-o", "in.qpy"], ["in.qpy: is the input file"]),
    "output-is-included-file": (["compile", "inc.qasm", "--qpus", 2, "-o", "mygates.inc"],
                                ["mygates.inc: is the same file as mygates.inc, included by the input inc.qasm"]),
    "output-missing-directory": (COMPILE + ["-o", "new.qasm", "--report", "nodir/r.json"], ["nodir/r.json", "'nodir'"]),
    "output-is-directory": (COMPILE + ["-o", "sub", "--report", "new.json"], ["sub: is a directory"]),
    "output-dangling-link-loop": (COMPILE + ["-o", "loop.qasm"], ["loop.qasm", "cannot write"]),
    "output-is-socket": (COMPILE + ["-o", "sock"], ["sock: is a socket"]),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_output_leaves_every_file_identical(work, capsys, case):
    argv, fragments = REFUSED[case]
    if case == "qpy-output-is-input":
        from qiskit import qpy
        from qiskit.synthesis import synth_qft_full

        with open(work / "in.qpy", "wb") as handle:
            qpy.dump(synth_qft_full(3), handle)
    if case == "output-is-included-file":
        (work / "mygates.inc").write_text("gate myh a { h a; }\n")
        (work / "inc.qasm").write_text('OPENQASM 2.0;\ninclude "qelib1.inc";\ninclude "mygates.inc";\n'
                                       "qreg q[2];\nmyh q[0];\ncx q[0],q[1];\n")
    if case == "output-dangling-link-loop":
        os.symlink("loop.qasm", work / "loop.qasm")
    held = None
    if case == "output-is-socket":
        held = socket.socket(socket.AF_UNIX)
        held.bind(str(work / "sock"))
    try:
        before = snapshot(work)
        start = time.perf_counter()
        code, stdout, stderr = run_cli(capsys, *[str(a).format(tmp=work) for a in argv])
        assert time.perf_counter() - start < 5
        assert_refused(code, stdout, stderr, *fragments)
        assert snapshot(work) == before  # content, mode, inode, symlink-ness; no temp file, no new file
    finally:
        if held is not None:
            held.close()


def test_refused_before_any_work(work, capsys, monkeypatch):
    """The same-file check runs before compiling: the pipeline is never called."""
    import dqc_compiler.cli as cli

    monkeypatch.setattr(cli, "compile_circuit", lambda *a, **k: pytest.fail("compiled before refusing"))
    code, stdout, stderr = run_cli(capsys, *COMPILE, "-o", "in.qasm")
    assert_refused(code, stdout, stderr, "input")


def test_json_output_to_stdout_refused_as_subprocess(work):
    before = snapshot(work)
    proc = subprocess.run([sys.executable, "-m", "dqc_compiler.cli", *COMPILE, "-o", "/dev/stdout", "--json"],
                          capture_output=True, text=True, timeout=120, cwd=work,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert_refused(proc.returncode, proc.stdout, proc.stderr, "/dev/stdout", "standard output")
    assert snapshot(work) == before


def test_json_with_stdout_and_output_on_dev_null_is_fine(work):
    proc = subprocess.run([sys.executable, "-m", "dqc_compiler.cli", *COMPILE, "-o", "/dev/null", "--json"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=120, cwd=work,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


# ---------------------------------------------------------------------- what is written
def test_symlink_output_is_written_through(work, capsys):
    code, _, stderr = run_cli(capsys, *COMPILE, "-o", "link-to-old.qasm")
    assert code == 0, stderr
    assert os.readlink(work / "link-to-old.qasm") == "old.qasm"  # still a link
    assert (work / "old.qasm").read_text().startswith("OPENQASM 3.0;")
    assert stat.S_IMODE((work / "old.qasm").stat().st_mode) == 0o640  # the target's mode is kept


def test_dangling_symlink_creates_its_target(work, capsys):
    os.symlink("sub/made.qasm", work / "dangling.qasm")
    code, _, stderr = run_cli(capsys, *COMPILE, "-o", "dangling.qasm")
    assert code == 0, stderr
    assert (work / "dangling.qasm").is_symlink() and (work / "sub" / "made.qasm").read_text().startswith("OPENQASM")


def test_existing_files_keep_their_modes(work, capsys):
    code, _, stderr = run_cli(capsys, *COMPILE, "-o", "old.qasm", "--report", "old.json")
    assert code == 0, stderr
    assert stat.S_IMODE((work / "old.qasm").stat().st_mode) == 0o640
    assert stat.S_IMODE((work / "old.json").stat().st_mode) == 0o604
    assert (work / "old.json").read_text().startswith('{\n  "schema": 1')


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_new_files_follow_the_umask(work, capsys, umask):
    old = os.umask(umask)
    try:
        code, _, stderr = run_cli(capsys, *COMPILE, "-o", "new.qasm", "--split", "fresh/deeper")
    finally:
        os.umask(old)
    assert code == 0, stderr
    assert stat.S_IMODE((work / "new.qasm").stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE((work / "fresh" / "deeper" / "messages.json").stat().st_mode) == 0o666 & ~umask


def test_dev_null_is_written_not_replaced(work, capsys):
    before = os.stat("/dev/null")
    code, stdout, stderr = run_cli(capsys, *COMPILE, "-o", "/dev/null", "--report", "/dev/null")
    assert code == 0, stderr
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev and after.st_ino == before.st_ino
    assert "wrote /dev/null" in stdout


def test_fifo_output_is_written_in_place(work):
    os.mkfifo(work / "pipe.qasm")
    reader = subprocess.Popen(["cat", str(work / "pipe.qasm")], stdout=subprocess.PIPE)
    try:
        write_atomically(work / "pipe.qasm", b"through the pipe\n")
        assert reader.communicate(timeout=10)[0] == b"through the pipe\n"
    finally:
        reader.kill()
    assert stat.S_ISFIFO(os.lstat(work / "pipe.qasm").st_mode)


def test_block_device_refused():
    devices = [p for p in ("/dev/loop0", "/dev/sda", "/dev/vda", "/dev/nvme0n1") if os.path.exists(p)
               and stat.S_ISBLK(os.stat(p).st_mode)]
    if not devices:
        pytest.skip("no block device node here")
    with pytest.raises(DQCError, match="block device"):
        write_atomically(devices[0], b"never")


# ---------------------------------------------------------------------- all or nothing
def _failing(original, fail_on: int, exc: BaseException):
    """``original``, except that call number ``fail_on`` (1-based) raises ``exc``."""
    calls = {"n": 0}

    def wrapper(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == fail_on:
            raise exc
        return original(*args, **kwargs)

    return wrapper


@pytest.mark.parametrize("exc, code", [(OSError(errno.ENOSPC, "No space left on device"), 2),
                                       (KeyboardInterrupt(), 130)])
def test_failed_second_commit_rolls_back(work, capsys, monkeypatch, exc, code):
    """-o replaced, then the report's rename fails: -o is put back, new files removed, exit 2 (or 130)."""
    monkeypatch.setattr(dqc_io.os, "replace", _failing(os.replace, 2, exc))
    before = snapshot(work)
    rc, stdout, stderr = run_cli(capsys, *COMPILE, "-o", "old.qasm", "--report", "brand-new.json",
                                 "--split", "fresh")
    assert rc == code, (stdout, stderr)
    assert stdout == "" and len(stderr.splitlines()) == 1 and "Traceback" not in stderr
    if code == 2:
        assert stderr.startswith("dqc: error: brand-new.json: cannot write (No space left on device)")
        assert "no file was changed" in stderr
    else:
        assert stderr == "dqc: interrupted\n"
    assert snapshot(work) == before  # old.qasm restored (same inode), nothing new, no temp file, no 'fresh'


def test_interrupt_just_after_a_rename_is_undone(work, capsys, monkeypatch):
    """Ctrl-C lands after os.replace of -o returned but before it was recorded: -o is still put back."""
    real_replace, calls = os.replace, {"n": 0}

    def replace_then_interrupt(src, dst):
        real_replace(src, dst)
        calls["n"] += 1
        if calls["n"] == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(dqc_io.os, "replace", replace_then_interrupt)
    before = snapshot(work)
    rc, stdout, stderr = run_cli(capsys, *COMPILE, "-o", "old.qasm", "--report", "old.json")
    assert (rc, stdout, stderr) == (130, "", "dqc: interrupted\n")
    assert snapshot(work) == before


def test_failed_preparation_names_the_users_path(work, capsys, monkeypatch):
    """The second temporary file cannot be made: nothing is replaced, and the message shows R.json."""
    import tempfile

    monkeypatch.setattr(dqc_io.tempfile, "mkstemp",
                        _failing(tempfile.mkstemp, 2, OSError(errno.EDQUOT, "Disk quota exceeded")))
    before = snapshot(work)
    rc, stdout, stderr = run_cli(capsys, *COMPILE, "-o", "old.qasm", "--report", "R.json")
    assert_refused(rc, stdout, stderr, "R.json: cannot write (Disk quota exceeded)")
    assert snapshot(work) == before


def test_failed_device_write_rolls_back_regular_files(work, monkeypatch):
    real_open = open

    def broken_open(path, *args, **kwargs):
        if str(path) == "/dev/null":
            raise OSError(errno.EIO, "Input/output error")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", broken_open)
    before = snapshot(work)
    with pytest.raises(DQCError, match=r"^/dev/null: cannot write \(Input/output error\); no file was changed$"):
        commit_outputs([(work / "old.qasm", b"new"), ("/dev/null", b"x"), (work / "n.json", b"{}")])
    assert snapshot(work) == before


def test_commit_outputs_refuses_inputs_and_duplicates(work):
    before = snapshot(work)
    with pytest.raises(DQCError, match="is the input file"):
        commit_outputs([(work / "a", b"1"), (work / "in.qasm", b"2")], inputs=[work / "in.qasm"])
    with pytest.raises(DQCError, match="given for two outputs"):
        commit_outputs([(work / "a", b"1"), (work / "a", b"2")])
    assert snapshot(work) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_report_refused_before_work(work, capsys):
    (work / "old.json").chmod(0o444)
    before = snapshot(work)
    rc, stdout, stderr = run_cli(capsys, *COMPILE, "-o", "new.qasm", "--report", "old.json")
    assert_refused(rc, stdout, stderr, "old.json: cannot write (Permission denied)")
    assert snapshot(work) == before


@pytest.mark.skipif(os.geteuid() != 0, reason="only root may give a file to another user")
def test_replaced_file_keeps_its_owner(work, capsys):
    os.chown(work / "old.qasm", 65534, 65534)
    code, _, stderr = run_cli(capsys, *COMPILE, "-o", "old.qasm")
    assert code == 0, stderr
    info = (work / "old.qasm").stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (65534, 65534, 0o640)
