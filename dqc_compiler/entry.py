"""The ``dqc`` console script: Ctrl-C is one line and exit 130 even while qiskit is still loading."""

from __future__ import annotations

import sys

EXIT_INTERRUPTED = 130


def main(argv: list[str] | None = None) -> int:
    """Load the command line (qiskit takes a second or two to import) and run it."""
    try:
        from .cli import main as run  # noqa: PLC0415 - the import is what may be interrupted
    except KeyboardInterrupt:
        print("dqc: interrupted", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
