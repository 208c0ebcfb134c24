from tests.claims.conftest import Practice, dos, practice  # noqa: F401  (fixture re-export)
from tests.denials.conftest import reference_codes, submitted  # noqa: F401
from tests.submissions.conftest import billing  # noqa: F401
