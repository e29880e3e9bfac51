"""The documentation stays true: its Python examples run, and docs/cli.md describes every flag of `dqc --help`."""

from __future__ import annotations

import contextlib
import io
import re

import pytest

from dqc_compiler.cli import build_parser

from .conftest import ROOT

#: Pages whose ```python blocks run, in order, as one script each (README's quick start is bash).
RUNNABLE = ["README.md", "docs/api.md", "docs/passes.md", "docs/ci.md"]


def python_blocks(path) -> list[str]:
    """The ```python fenced blocks of a Markdown file."""
    return re.findall(r"^```python\n(.*?)^```", (ROOT / path).read_text(), flags=re.DOTALL | re.MULTILINE)


@pytest.mark.parametrize("page", RUNNABLE)
def test_python_examples_run(page, tmp_path, monkeypatch):
    blocks = python_blocks(page)
    assert blocks, f"{page} has no python example"
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    namespace: dict = {"__name__": f"docs_{page}"}
    for number, block in enumerate(blocks, 1):
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(block, f"{page} (python block {number})", "exec"), namespace)  # noqa: S102


def _subcommands():
    parser = build_parser()
    action = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return action.choices


@pytest.mark.parametrize("command", ["compile", "verify"])
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
