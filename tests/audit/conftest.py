# The back office's client: force_login passes the second factor too, as for every admin test.
from tests.admin.conftest import client  # noqa: F401
