"""Fixtures of the service tests: ``service``, a workspace whose claims SVC-0001..3 were
submitted (modules that need another kind of service define their own)."""

from tests.support.submitted import service  # noqa: F401 (the fixture)
