"""`python -m tests.faults` (make test-faults): see tests/faults/harness.py."""

from tests.faults.harness import main

raise SystemExit(main())
