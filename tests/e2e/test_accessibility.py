"""WCAG 2.1 AA in the browser (issue 16): axe-core (shipped by axe-playwright-python, no
network) over the pages each role opens, in the three languages — no critical or serious
violation — and a keyboard-only pass through the public form.

One context per role, signed in once; the language changes with the Accept-Language header,
and axe is added to every page by an init script (never through the page: the CSP forbids
inline scripts, and Playwright's init scripts are not page scripts)."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.base import AXE_SCRIPT

from tests.e2e.pages import sign_in

LANGUAGES = {"zh_Hans_CN": "zh-CN,zh;q=0.9", "zh_Hant": "zh-TW,zh;q=0.9", "en": "en-US,en;q=0.9"}

#: Per role (a demo username; None: a visitor), the pages to check. ``list -> pattern``
#: stands for the first link on the list page whose path matches the pattern.
ROLE_PAGES = {
    None: ["/auth/login", "/request", "/track", "/portal/register", "/reports/public"],
    "handler": ["/home", "/tickets/", r"/tickets/ -> ^/tickets/[A-Z]{2}\d", "/firms/",
                r"/firms/ -> ^/firms/\d+$", "/visits/", r"/visits/ -> ^/visits/\d+$",
                "/visits/new", r"/visits/new?q=%E5%85%AC%E5%8F%B8 -> ^/visits/new/\d+$",
                "/projects/", r"/projects/ -> ^/projects/\d+$", "/notifications/",
                "/auth/password", "/account/api-tokens", "/ratings/rectifications"],
    "dispatcher": ["/tickets/new", "/portal/intake", "/portal/snippets", "/ratings/follow-ups",
                   "/portal/registrations"],
    "supervisor": ["/reports/", "/reports/monthly", "/visits/plans", "/visits/cadence",
                   "/visits/coverage"],
    "admin": ["/admin/users", "/admin/users/new", "/admin/units", "/admin/calendar",
              "/admin/sla/policies", "/admin/jobs/", "/tickets/categories", "/ratings/settings",
              "/admin/api-clients"],
    "auditor": ["/audit/"],
    "firm": ["/portal/tickets", "/portal/firm", "/portal/requests/new",
             r"/portal/tickets -> ^/portal/tickets/[A-Z]{2}\d"],
}

#: WCAG 2.0/2.1 A and AA rules only (the best-practice rules are advice, not the standard).
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
               "resultTypes": ["violations"]}
BLOCKING = {"critical", "serious"}


def _first_link(page, spec: str) -> str:
    list_path, pattern = (part.strip() for part in spec.split("->"))
    page.goto(list_path)
    hrefs = page.eval_on_selector_all("main a[href]",
                                      "links => links.map(a => a.getAttribute('href'))")
    found = next((href for href in hrefs if re.search(pattern, href)), None)
    assert found, f"no link matching {pattern} on {list_path}"
    return found


def _violations(page) -> list[str]:
    results = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    return [f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']} {v['help']}"
            for v in results["violations"] if v["impact"] in BLOCKING]


@pytest.mark.parametrize("username", list(ROLE_PAGES))
def test_pages_have_no_serious_accessibility_violations(browser, base_url, username):
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    context.add_init_script(script=AXE_SCRIPT)
    page = context.new_page()
    if username:
        sign_in(page, username)
    paths = [_first_link(page, p) if "->" in p else p for p in ROLE_PAGES[username]]
    found = []
    for language, header in LANGUAGES.items():
        page.set_extra_http_headers({"Accept-Language": header})
        for path in paths:
            response = page.goto(path)
            assert response.status == 200, (path, response.status)
            found += [f"{language} {path}: {v}" for v in _violations(page)]
    context.close()
    assert not found, "\n".join(found)


def test_every_role_page_list_covers_at_least_25_pages():
    assert len({p for pages in ROLE_PAGES.values() for p in pages}) >= 25


#: What the keyboard types into the public form, by field name.
PUBLIC_FORM = {"firm_name": "昆山键盘测试有限公司", "uscc": "91320583314159268J",
               "contact_name": "键盘", "mobile": "13912345678", "title": "只用键盘提交",
               "description": "整张表单只用 Tab、空格和回车填写。"}

#: The focused element and whether its focus is visible (an outline or Bootstrap's ring).
_FOCUSED = """() => {
  const e = document.activeElement, style = getComputedStyle(e);
  const visible = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
                  || style.boxShadow !== 'none';
  return {tag: e.tagName.toLowerCase(), type: e.type || '', name: e.name || '',
          text: (e.innerText || '').trim().slice(0, 40), visible};
}"""


def _tab(page) -> dict:
    page.keyboard.press("Tab")
    focused = page.evaluate(_FOCUSED)
    assert focused["visible"] or focused["tag"] == "body", f"focus not visible on {focused}"
    return focused


def test_the_public_form_is_filled_and_sent_with_the_keyboard_alone(browser, base_url):
    context = browser.new_context(base_url=base_url, locale="zh-CN")
    page = context.new_page()
    page.goto("/request")
    for _ in range(80):
        focused = _tab(page)
        name = focused["name"]
        if name in PUBLIC_FORM:
            page.keyboard.type(PUBLIC_FORM[name])
        elif name == "demand_type":
            page.keyboard.press("ArrowDown")
        elif name == "consent":
            page.keyboard.press("Space")
        elif focused["type"] == "submit" and page.evaluate(
                "document.activeElement.closest('[data-testid=request-form]') !== null"):
            page.keyboard.press("Enter")
            break
    page.wait_for_url(re.compile(r"/track/[A-Za-z0-9_-]{43,}/received$"))
    context.close()


def test_the_ticket_actions_are_reached_with_the_keyboard(browser, base_url):
    """The ticket page's action buttons are reached by Tab, each with a visible focus."""
    context = browser.new_context(base_url=base_url, locale="zh-CN")
    page = context.new_page()
    sign_in(page, "dispatcher")
    page.goto(_first_link(page, r"/tickets/ -> ^/tickets/[A-Z]{2}\d"))
    actions = page.locator("main button:visible").count()
    reached = set()
    for _ in range(200):
        focused = _tab(page)
        if focused["tag"] == "button":
            reached.add(focused["text"])
        if focused["tag"] == "body":
            break
    assert actions and len(reached) >= 1, (reached, actions)
    context.close()
