"""Small page helpers shared by browser journeys."""

from __future__ import annotations

from app.demo.cli import DEMO_PASSWORD


def sign_in(page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the real form and wait for the next page."""
    page.goto("/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form[action$='/auth/login'] button[type=submit]")
    page.wait_for_load_state()


def sign_out(page) -> None:
    """Use the sign-out button in the navigation bar."""
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():
        toggler.click()
    page.click("[data-testid=user-menu] > button")
    page.click("form[action$='/auth/logout'] button[type=submit]")
    page.wait_for_url("**/auth/login")
