"""Links stored by business code come from the routes, in a request or out of one."""

from app.core.links import path_for


def test_a_path_is_the_same_in_and_out_of_a_request(app):
    with app.app_context():
        outside = path_for("tickets.detail", reference="KS2026-000001")
    with app.test_request_context("/"):
        inside = path_for("tickets.detail", reference="KS2026-000001")
    assert outside == inside == "/tickets/KS2026-000001"


def test_a_path_outside_a_request_starts_at_the_application_root(app):
    with app.app_context():
        app.config["APPLICATION_ROOT"] = "/ruyi"
        try:
            assert path_for("tickets.detail", reference="KS2026-000001") == (
                "/ruyi/tickets/KS2026-000001")
        finally:
            app.config["APPLICATION_ROOT"] = "/"
