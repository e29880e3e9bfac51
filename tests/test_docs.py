"""The documentation stays true: its Python examples run, and docs/cli.md describes every flag of `dqc --help`."""

from __future__ import annotations

import contextlib
import io
import re

import pytest

from dqc_compiler.cli import build_parser

from .conftest import ROOT

#: Pages whose ```python blocks run, in order, as one script each (README's quick start is bash).
RUNNABLE = ["README.md", "docs/api.md", "docs/passes.md", "docs/ci.md", "docs/batch.md"]
#: Pages whose printed outputs are shown and must stay true: after a ```python block, a plain
#: ``` block with exactly what it prints (passes.md), or a ``# output`` comment on the print line
#: or the line below it that starts with what that print writes (api.md).
PRINTED = ["docs/api.md", "docs/passes.md"]


def python_blocks(path) -> list[str]:
    """The ```python fenced blocks of a Markdown file."""
    return re.findall(r"^```python\n(.*?)^```", (ROOT / path).read_text(), flags=re.DOTALL | re.MULTILINE)


@pytest.mark.parametrize("page", [p for p in RUNNABLE if p not in PRINTED])  # PRINTED pages run below
def test_python_examples_run(page, tmp_path, monkeypatch):
    blocks = python_blocks(page)
    assert blocks, f"{page} has no python example"
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    namespace: dict = {"__name__": f"docs_{page}"}
    for number, block in enumerate(blocks, 1):
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(block, f"{page} (python block {number})", "exec"), namespace)  # noqa: S102


def shown_outputs(path) -> list[tuple[str, str | None, list[str | None]]]:
    """Per ```python block: its code, the plain block right after it (None if none), and for
    each ``print(`` line the ``#`` comment on it or on the next line (None if neither)."""
    text = (ROOT / path).read_text()
    found = []
    for match in re.finditer(r"^```python\n(.*?)^```\n(?:\n```\n(.*?)^```)?", text, flags=re.DOTALL | re.MULTILINE):
        code, block = match.group(1), match.group(2)
        lines = code.splitlines()
        comments = []
        for i, line in enumerate(lines):
            if line.lstrip().startswith("print("):
                same = re.search(r"\)\s+#\s?(.*)$", line)
                below = lines[i + 1].strip() if i + 1 < len(lines) else ""
                comments.append(same.group(1) if same else below[2:] if below.startswith("# ") else None)
        found.append((code, block, comments))
    return found


@pytest.mark.parametrize("page", PRINTED)
def test_printed_outputs_are_current(page, tmp_path, monkeypatch):
    """What the docs show a print writing is what it writes today (a report key added or a
    figure changed makes this fail until the page is updated)."""
    monkeypatch.chdir(tmp_path)
    check_printed_outputs(page)


def test_a_stale_printed_output_is_caught(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("```python\nprint({'ebits': 3, 'swaps': 0})   # {'ebits': 3}\n```\n")
    with pytest.raises(AssertionError, match="shows"):
        check_printed_outputs(page)
    page.write_text("```python\nprint(1)\nprint(2)\n```\n\n```\n1\n3\n```\n")
    with pytest.raises(AssertionError, match="differs"):
        check_printed_outputs(page)
    page.write_text("```python\nprint(1)\nprint(2)\n```\n\n```\n1\n2\n```\n")
    check_printed_outputs(page)


def check_printed_outputs(page) -> None:
    """Run ``page``'s python blocks in order; assert each shown output (see :data:`PRINTED`)."""
    namespace: dict = {"__name__": f"docs_{page}"}
    checked = 0
    for number, (code, block, comments) in enumerate(shown_outputs(page), 1):
        written: list[str] = []
        namespace["print"] = lambda *args, sep=" ", end="\n", **_: written.append(sep.join(map(str, args)))
        exec(compile(code, f"{page} (python block {number})", "exec"), namespace)  # noqa: S102
        if block is not None:
            assert "\n".join(written) == block.rstrip("\n"), f"{page}, block {number}: printed output differs"
            checked += 1
        elif written:
            assert len(written) == len(comments), f"{page}, block {number}: a print runs more than once"
            for shown, comment in zip(written, comments):
                assert comment is not None, f"{page}, block {number}: print without its output ({shown!r})"
                assert comment.startswith(shown), f"{page}, block {number}: shows {comment!r}, prints {shown!r}"
                checked += 1
    assert checked, f"{page}: no printed output is checked"


def _subcommands():
    parser = build_parser()
    action = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return action.choices


@pytest.mark.parametrize("command", sorted(_subcommands()))
def test_cli_md_describes_every_flag(command):
    """Every option of ``dqc COMMAND --help`` is in docs/cli.md, and its usage block matches."""
    text = (ROOT / "docs" / "cli.md").read_text()
    sub = _subcommands()[command]
    section = text.split(f"## `dqc {command}`", 1)[1].split("\n## ", 1)[0]
    for action in sub._actions:
        if action.dest == "help":
            continue
        for flag in action.option_strings:
            assert f"`{flag}" in section, f"docs/cli.md, dqc {command}: {flag} is not described"
        if not action.option_strings:
            assert f"`{action.metavar}`" in section, f"docs/cli.md, dqc {command}: {action.metavar} is not described"
    usage = " ".join(sub.format_usage().split())
    documented = re.search(r"```\n(usage: dqc " + command + r".*?)```", section, flags=re.DOTALL)
    assert documented, f"docs/cli.md has no usage block for dqc {command}"
    assert " ".join(documented.group(1).split()) == usage


def test_register_sizes_are_as_documented():
    """docs/output.md, "Registers": placed input qubits plus every comm qubit, no register for a
    QPU with neither, in network order."""
    from qiskit import QuantumCircuit

    from dqc_compiler import compile
    from dqc_compiler.network import QPU, Link, Network

    qc = QuantumCircuit(3)
    qc.cx(0, 1)
    qc.h(2)
    network = Network([QPU("a", 2, 3), QPU("b", 2, 1), QPU("c", 4, 2), QPU("d", 1, 0)],
                      [Link(("a", "b")), Link(("b", "c")), Link(("a", "c"))])
    result = compile(qc, network, partition=[0, 1, 0])
    assert [(r.name, r.size) for r in result.circuit.qregs] == [("a", 5), ("b", 2), ("c", 2)]
    assert "`a[5]`, `b[2]`, `c[2]` and none for `d`" in " ".join((ROOT / "docs" / "output.md").read_text().split())
