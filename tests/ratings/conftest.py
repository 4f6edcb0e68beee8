"""Rating fixtures: the portal's cast of staff and firms."""

from tests.portal.conftest import cast, clean_outbox  # noqa: F401 - fixtures shared with portal
