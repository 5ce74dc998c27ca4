"""The `ijs-vetting` command (and `python -m ijs_vetting`), kept light to import.

The face engine's worker processes are started with `spawn`, and a spawned process first imports
its parent's main module: the `ijs-vetting` script, which imports this one. If this module
imported the CLI at the top, every worker would load SQLAlchemy, Alembic and all the services
(1.2 s, measured) before it could load its face models; only `main()` pulls them in.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line (or, with no command, the app) and return its exit code."""
    from ijs_vetting.cli import main as run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
