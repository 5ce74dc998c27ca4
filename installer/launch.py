"""Entry point of the frozen app: the same `ijs-vetting` command a pip install provides.

The face engine's pool starts its workers with `spawn`, which in a frozen app re-runs this very
executable with multiprocessing's own arguments. `freeze_support()` must see those arguments
first and turn the process into a worker; without it each worker would start another station
(and, on Windows, another window) instead. PyInstaller's runtime hook makes the call work with
`spawn` on every platform, not only Windows.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from ijs_vetting.cli import main

    sys.exit(main())
