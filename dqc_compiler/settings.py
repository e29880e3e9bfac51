"""What each optimisation level turns on: one frozen settings object per level, read by every pass."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, replace

from .errors import DQCError


@dataclass(frozen=True)
class LevelSettings:
    """The switches and budgets of one ``optimization_level``.

    Built once by :func:`settings_for` (the pipeline does it) and handed to the passes, so that no
    pass interprets the level number itself. ``summary`` is the level's line in the CLI help and
    ``description`` its row in docs/cost-model.md; both are checked against these fields by tests.
    """

    level: int
    summary: str
    description: str
    #: Final swaps become a relabelling of ``layout.final`` (:class:`~dqc_compiler.passes.AbsorbFinalSwaps`).
    absorb_final_swaps: bool = False
    #: ``ccx``/``ccz`` stay whole (served by one copy per remote qubit) when no QPU has exactly one comm qubit.
    keep_multi: bool = False
    #: ``"per_gate"`` (one telegate per nonlocal gate), ``"segment"`` (one copy per segment, first
    #: controlled qubit shared) or ``"cover"`` (shared qubits chosen jointly by a minimum vertex cover).
    grouping: str = "per_gate"
    #: Copies in the X basis (``cx`` targets) and embedding of anti-diagonal one-qubit gates.
    x_basis: bool = False
    embed: bool = False
    #: Hadamard embedding: Z copies live across ``h · (gates that are Paulis in the X frame) · h``
    #: sandwiches (:mod:`dqc_compiler.embedding`), tried as extra candidates of the burst grouping.
    embed_h: bool = False
    #: Objective of the partitioner: the burst model's true ebit count (else the cut weight).
    burst_aware_partition: bool = False
    #: METIS seeds tried from ``--seed`` on (burst-aware partitioning).
    metis_seeds: int = 1
    #: Local search on the true ebit count: evaluations per two-qubit gate (``refine_work``), capped.
    refine_work: int = 0
    refine_cap: int = 0
    #: Last refinement on the ebits a dry run of the insertion spends (0: none).
    dry_run_refine_work: int = 0
    dry_run_refine_cap: int = 0
    #: ``False`` switches every local search of the partitioner off (``refine=False``, for comparisons).
    refine: bool = True
    #: Commutation-aware reordering (:class:`~dqc_compiler.passes.CommuteForBursts`).
    commute: bool = False
    #: Burst grouping compares candidate groupings by dry runs of the insertion (comm-qubit limits).
    dry_run_candidates: bool = False
    #: Rounds of the comm-pressure repair of the chosen grouping (each tries a few banned copies).
    relief_rounds: int = 0

    @property
    def bases(self) -> tuple[str, ...]:
        """The bases copies may be shared in."""
        return ("Z", "X") if self.x_basis else ("Z",)

    def refine_budget(self, num_gates: int) -> int:
        """Evaluations the true-ebit-count refinement may spend on a circuit of ``num_gates`` 2q gates."""
        if not self.refine or not self.refine_cap:
            return 0
        return max(10, min(self.refine_cap, self.refine_work // max(1, num_gates)))

    def dry_run_refine_budget(self, num_gates: int) -> int:
        """Evaluations of the dry-run refinement (0 when the level has none or ``refine`` is off)."""
        if not self.refine or not self.dry_run_refine_cap:
            return 0
        return max(10, min(self.dry_run_refine_cap, self.dry_run_refine_work // max(1, num_gates)))


_LEVEL_0 = LevelSettings(
    level=0,
    summary="one telegate (1 ebit) per nonlocal gate; METIS on the interaction graph",
    description="One telegate (1 ebit, 2 classical bits) per nonlocal two-qubit gate. METIS on the interaction "
    "graph, refined on the cut weight. The baseline every distribution compiler must beat.",
)
_LEVEL_1 = replace(
    _LEVEL_0,
    level=1,
    summary="+ final swaps absorbed into the layout, one cat-entangled copy per segment of a qubit",
    description="Final swaps absorbed into `layout.final`. One cat-entangled copy serves every gate of a "
    "*segment* (below), in the Z basis, sharing the first qubit each gate is controlled on.",
    absorb_final_swaps=True,
    grouping="segment",
)
_LEVEL_2 = replace(
    _LEVEL_1,
    level=2,
    summary="+ shared qubits chosen jointly (exact minimum vertex cover), X-basis copies for cx targets, "
    "embedding of anti-diagonal gates and Hadamard sandwiches, Toffoli/CCZ kept whole, partition refined on "
    "the true ebit count",
    description="The shared qubit of every gate is chosen jointly: a **minimum vertex cover**, solved exactly. "
    "Copies in the **X basis** for `cx` targets. **Embedding** of anti-diagonal one-qubit gates and of "
    "**Hadamard sandwiches** (`h` · gates that are Paulis in the X frame · `h`). **Toffoli and CCZ kept whole.** A partition refined on the **true ebit count**. Comm-qubit limits are taken into account "
    "by dry runs of the protocol insertion.",
    keep_multi=True,
    grouping="cover",
    x_basis=True,
    embed=True,
    embed_h=True,
    burst_aware_partition=True,
    refine_work=1_000_000,
    refine_cap=150,
    dry_run_candidates=True,
    relief_rounds=4,
)
_LEVEL_3 = replace(
    _LEVEL_2,
    level=3,
    summary="+ commutation-aware reordering, more METIS seeds, a longer refinement, and one on the dry-run "
    "ebit count",
    description="Everything of level 2, plus commutation-aware reordering, four METIS seeds instead of one, a much "
    "longer refinement, and a last refinement on the ebits a dry run of the insertion really spends (comm-qubit "
    "splits included).",
    metis_seeds=4,
    refine_work=8_000_000,
    refine_cap=20_000,
    dry_run_refine_work=150_000,
    dry_run_refine_cap=300,
    commute=True,
    relief_rounds=30,
)

#: The settings of every optimisation level, by level number.
LEVEL_SETTINGS: dict[int, LevelSettings] = {s.level: s for s in (_LEVEL_0, _LEVEL_1, _LEVEL_2, _LEVEL_3)}
DEFAULT_LEVEL = 2


def settings_for(level: int, refine: bool = True) -> LevelSettings:
    """The settings of optimisation ``level`` (0-3); ``refine=False`` turns the partitioner's local search off."""
    if level not in LEVEL_SETTINGS:
        raise DQCError(f"optimization level must be one of 0, 1, 2, 3 (got {level})")
    found = LEVEL_SETTINGS[level]
    return found if refine else replace(found, refine=False)


def levels_help(width: int = 100) -> str:
    """The ``-O`` lines of the CLI help, generated from the settings."""
    lines = []
    for level, found in LEVEL_SETTINGS.items():
        default = "   (default)" if level == DEFAULT_LEVEL else ""
        lines += textwrap.wrap(
            found.summary + default, width=width, initial_indent=f"  {level}  ", subsequent_indent="     "
        )
    return "\n".join(lines)


def levels_table() -> str:
    """The Markdown table of docs/cost-model.md, generated from the settings."""
    rows = ["| level | what it adds |", "|---:|---|"]
    for level, found in LEVEL_SETTINGS.items():
        label = f"**{level}** (default)" if level == DEFAULT_LEVEL else str(level)
        rows.append(f"| {label} | {found.description} |")
    return "\n".join(rows)
