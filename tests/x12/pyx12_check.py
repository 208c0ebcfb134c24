"""Validating X12 text with pyx12 (4.x) and collecting every error it reports."""

from __future__ import annotations

import io
import json
import logging


def pyx12_errors(text: str, map_path: str | None = None) -> tuple[bool, list[str]]:
    """(valid, every error message) from pyx12 validating the text against the map its GS08
    names (005010X222A1 for our 837P, 005010X221A1 for the 835); ``map_path`` points pyx12 at
    another map folder (tests/x12/pyx12_maps.py for the 270 and 276)."""
    import pyx12.params
    import pyx12.x12n_document

    # Some errors (on ST/SE, for instance) reach only pyx12's log, not its JSON report.
    logged: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            logged.append(record.getMessage())

    handler = Collect(level=logging.ERROR)
    logger = logging.getLogger("pyx12")
    logger.addHandler(handler)
    report = io.StringIO()
    try:
        valid = pyx12.x12n_document.x12n_document(
            param=pyx12.params.params(),
            src_file=io.StringIO(text),
            fd_997=None,
            fd_html=None,
            fd_json=report,
            map_path=map_path,
        )
    finally:
        logger.removeHandler(handler)
    errors: list[str] = list(logged)

    def collect(node: object) -> None:
        if isinstance(node, dict):
            for error in node.get("errors", []):
                errors.append(error["err_str"])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for item in node:
                collect(item)

    collect(json.loads(report.getvalue()))
    return valid, errors
