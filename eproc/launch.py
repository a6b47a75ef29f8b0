"""The `eproc` command's entry point (pyproject `[project.scripts]`).

`eproc pilot` needs Prefect's local server from its first line, and the server needs ~3.3 s of the other
core to import and boot: it is started here, before the CLI and the engine are imported (~0.9 s), and
handed to the `pilot` command as the click context's object (issue 15 item 1). Every other command
goes straight to the CLI (eproc.cli)."""
from __future__ import annotations

import sys


def main() -> None:
    args = sys.argv[1:]
    prefect_api = None
    if args[:1] == ["pilot"] and not {"--help", "-h"} & set(args):
        from pilot.prefect_api import start_for_rehearsal

        prefect_api = start_for_rehearsal("--json" in args)
    from eproc.cli import app

    app(obj={"prefect_api": prefect_api})
