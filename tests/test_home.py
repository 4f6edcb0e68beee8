"""Each role lands on its own home page, with a menu built from its permissions."""

import pytest

from app.core.permissions import Role

MENU = {
    Role.ADMIN: ["/admin/users", "/admin/units"],
    Role.AUDITOR: ["/audit/"],
}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_sees_its_home_and_only_its_menu(client, make, login_as, role):
    login_as(make.user(role))
    html = client.get("/home").get_data(as_text=True)
    for path in ("/admin/users", "/admin/units", "/audit/"):
        shown = f'href="{path}"' in html
        assert shown == (path in MENU.get(role, [])), (role, path)


def test_admin_home_shows_account_figures(client, make, login_as):
    login_as(make.user(Role.ADMIN))
    assert "Locked accounts" in client.get("/home").get_data(as_text=True)


def test_auditor_home_shows_recent_failures(client, make, login_as):
    login_as(make.user(Role.AUDITOR))
    assert "Failed actions in the last 24 hours" in client.get("/home").get_data(as_text=True)


def test_signed_in_front_door_goes_home(client, make, login_as):
    login_as(make.user(Role.HANDLER))
    assert client.get("/").headers["Location"].endswith("/home")
