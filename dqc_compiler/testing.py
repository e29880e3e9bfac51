"""Test helpers for users' own suites: assert that a distributed circuit computes what the original does."""

from __future__ import annotations

from qiskit import QuantumCircuit

from .verify import verify

__all__ = ["assert_equivalent"]


def assert_equivalent(
    original: QuantumCircuit,
    distributed: QuantumCircuit,
    layout: dict | None = None,
    method: str = "auto",
    seed: int | None = None,
) -> None:
    """Raise ``AssertionError`` unless ``distributed`` is equivalent to ``original``.

    A thin wrapper around :func:`dqc_compiler.verify.verify` for pytest suites. ``layout`` is the
    report's ``layout`` object; without it, the layout comes from ``distributed.metadata`` (as
    ``dqc compile`` writes it). The message names the check that failed and its figure (the
    smallest probability of the all-zero outcome over the shots; 1 means equivalent) and why that
    check was chosen. Raises :class:`~dqc_compiler.verify.VerificationUnavailable` (a
    ``DQCError``) when no check can run at this width.

    >>> from qiskit import QuantumCircuit
    >>> import dqc_compiler
    >>> qc = QuantumCircuit(2); _ = qc.h(0); _ = qc.cx(0, 1)
    >>> assert_equivalent(qc, dqc_compiler.compile(qc, qpus=2).circuit)
    """
    verdict = verify(original, distributed, layout=layout, method=method, seed=seed)
    if verdict.equivalent:
        return
    failed = [c for c in verdict.checks if not c.equivalent]
    if failed:
        details = "; ".join(
            f"{c.method}: all-zero probability {c.figure:.6g} (must be 1) over {c.shots} shots on {c.qubits} qubits"
            for c in failed
        )
    else:
        details = verdict.reason or "the output breaks the distributed-circuit contract"
    name = original.name or "the original"
    why = f" [{verdict.choice}]" if verdict.choice else ""
    raise AssertionError(f"distributed circuit is not equivalent to {name} ({verdict.method}): {details}{why}")
