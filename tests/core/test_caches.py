"""Every process cache is named in one module (app/core/caches.py) with its rule, one switch
keeps rendered fragments only when templates do not reload, a change signal empties what
listens to it, and ``clear_all()`` leaves nothing kept. An edited template shows on the next
request in development."""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
from pathlib import Path

import pytest
from flask import g
from jinja2 import ChoiceLoader, FileSystemLoader

import app as app_package
from app import create_app
from app.auth.models import Role
from app.core import caches
from app.extensions import db
from tests.helpers import post_form

APP_DIR = Path(app_package.__file__).parent


def _import_every_module() -> None:
    for module in pkgutil.walk_packages([str(APP_DIR)], "app."):
        importlib.import_module(module.name)


def _sizes(rule: caches.Rule | None = None) -> dict[str, int]:
    return {name: sum(cache.size() for cache in made)
            for name, made in caches.registered().items()
            if rule is None or made[0].spec.rule is rule}


def test_every_cache_is_named_with_its_rule_and_every_name_is_made():
    _import_every_module()
    assert set(caches.registered()) == set(caches.CACHES)
    for spec in caches.CACHES.values():
        assert spec.keeps and (spec.ttl is None or spec.rule is caches.Rule.CHANGES)
    with pytest.raises(KeyError, match="not named"):
        caches.Store("no.such.cache")


def test_no_module_keeps_a_cache_of_its_own():
    """A memo or kept dictionary made outside app/core/caches.py would escape its rule and
    ``clear_all()``: every one goes through the module."""
    own = re.compile(r"lru_cache|functools\.cache\b|^from functools import .*\bcache\b|^@cache\b",
                     re.MULTILINE)
    found = [str(path.relative_to(APP_DIR)) for path in APP_DIR.rglob("*.py")
             if path.name != "caches.py" and own.search(path.read_text(encoding="utf-8"))]
    assert found == []


def test_no_python_writes_markup():
    """Markup lives in templates: no Python string in app/ opens an HTML or SVG element."""
    names = ("li|div|span|td|tr|th|a|ul|ol|p|strong|em|b|select|option|input|textarea|form|"
             "table|thead|label|button|h[1-6]|svg|line|rect|text|circle|polyline|nav|br|img")
    # an element opened with an attribute or closed, in a string (not ``<table>_<name>``)
    tag = re.compile(rf"""["'][^"'\n]*<(?:/(?:{names})>|(?:{names})(?:\s+[\w:-]+=|\s*/?>(?!_)))""")
    found = [f"{path.relative_to(APP_DIR)}:{number}"
             for path in APP_DIR.rglob("*.py")
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if tag.search(line)]
    assert found == []


# -- the switch ----------------------------------------------------------------------------------


def _visit_pages(client, login_as, make) -> None:
    """A queue, a ticket page and a paged list as a dispatcher, the public form anonymously."""
    ticket = make.ticket()
    for _ in range(3):
        make.firm()
    staff = login_as(make.user(Role.DISPATCHER))
    for path in ("/tickets/?queue=all", f"/tickets/{ticket.reference}", "/firms/"):
        assert staff.get(path).status_code == 200
    staff.get("/auth/logout")
    with client.session_transaction() as session:
        session.clear()
    assert client.get("/request").status_code == 200


def test_the_tests_render_every_page_afresh(client, login_as, make):
    _visit_pages(client, login_as, make)
    assert set(_sizes(caches.Rule.RENDERED).values()) == {0}


def test_production_keeps_what_it_renders(client, login_as, make, keep_rendered):
    _visit_pages(client, login_as, make)
    kept = _sizes(caches.Rule.RENDERED)
    assert all(kept.values()), kept


def test_nothing_rendered_is_kept_while_templates_auto_reload(app, client, login_as, make,
                                                              keep_rendered):
    app.jinja_env.auto_reload = True
    try:
        _visit_pages(client, login_as, make)
    finally:
        app.jinja_env.auto_reload = False
    assert set(_sizes(caches.Rule.RENDERED).values()) == {0}


@pytest.mark.parametrize(("config", "keeps"), [("development", False), ("production", True)])
def test_development_reloads_templates_and_production_keeps_fragments(monkeypatch, config,
                                                                       keeps):
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    monkeypatch.delenv("TEMPLATES_AUTO_RELOAD", raising=False)
    monkeypatch.delenv("RENDER_CACHE", raising=False)
    built = create_app(config, {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert built.jinja_env.auto_reload is not keeps
    assert caches.keeps_rendered(built) is keeps


# -- signals and clear_all ------------------------------------------------------------------------


def test_a_category_change_fires_its_signal_once(app, make, monkeypatch):
    fired = []
    monkeypatch.setattr(caches, "changed", lambda signal: fired.append(signal))
    row = make.category(name="信号测试")
    row.name = "信号测试改"
    db.session.commit()
    assert fired == ["categories", "categories"]  # the insert, the update: once each
    create_app("testing")  # a second application adds no second listener
    row.name = "信号测试再改"
    db.session.commit()
    assert fired == ["categories"] * 3


def test_a_signal_empties_only_the_caches_listening(app, keep_rendered):
    listening = [name for name, spec in caches.CACHES.items() if "units" in spec.signals]
    assert listening == ["tickets.filter_choices"]
    store = caches.registered()["tickets.filter_choices"][0]
    other = caches.registered()["portal.category_choices"][0]
    with app.test_request_context("/"):
        store.get("key", lambda: "value")
        other.get("key", lambda: "value")
        caches.changed("units")
        assert store.size() == 0 and other.size() == 1
        caches.changed("categories")
        assert other.size() == 0


def test_clear_all_empties_every_cache(app, client, login_as, make, keep_rendered):
    """Every cache filled by real work — pages, a public submission, an import's column
    letters, the calendar alert — then ``clear_all()`` leaves every one empty."""
    from app.core.i18n import locale_name
    from app.firms.xlsx_reader import _column_index
    from app.jobs.schedules import matcher
    from app.reports.sql import workday_arrays
    from app.sla.services import calendar_alert, load_calendar
    from app.tickets.system_texts import shown
    from app.tickets.workflow import _pending_statement
    from app.visits.panels import _issue_statement
    from tests.portal.conftest import request_data

    _import_every_module()
    _visit_pages(client, login_as, make)
    assert post_form(client, "/request", {**request_data(), "title": "清空测试"}).status_code == 302
    supervisor = login_as(make.user(Role.SUPERVISOR))
    assert supervisor.get("/reports/").status_code == 200
    assert supervisor.get("/tickets/?queue=all&q=清空").status_code == 200
    _column_index("AB")
    for name in list(g):
        g.pop(name)
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        calendar_alert()
        workday_arrays(load_calendar())  # the PostgreSQL report statements' arrays
        shown("a comment")  # the timeline shows system texts in the reader's language
        _pending_statement()  # the preconditions of a reply or an extension
        _issue_statement()  # the ticket page of a ticket recorded on a visit
        matcher("0 3 * * *")  # the periodic jobs' scheduler
        locale_name()
        filled = _sizes()
        assert [name for name, size in filled.items() if not size] == []
        caches.clear_all()
        assert set(_sizes().values()) == {0}


# -- a template edited in development shows on the next request -----------------------------------

#: template → (a page showing it, what to change in it to see the edit)
EDITS = {
    "_layout/navbar.html": ("queue", '<nav class="navbar'),
    "_layout/head.html": ("queue", '<body class='),
    "_layout/foot.html": ("queue", '<footer class='),
    "_macros/_pagination.html": ("queue", '<div class="d-flex flex-wrap justify-content-between'),
    "tickets/_heading.html": ("queue", '<ul class="nav nav-tabs'),
    "tickets/_filters.html": ("queue", '<form method="get"'),
    "tickets/_table_head.html": ("queue", "<thead"),
    "tickets/index.html": ("queue", '<table class='),
    "tickets/_timeline.html": ("ticket", '<li class="list-group-item small">'),
    "_macros/forms.html": ("ticket", '<div class="mb-3 {{ class_ }}">'),
    "tickets/detail.html": ("ticket", '<ol class="list-group'),
    "portal/request_form.html": ("form", '<form method="post"'),
}


@pytest.fixture
def editable_templates(app, tmp_path, keep_rendered):
    """Development: templates reload (and the rendering caches are on, so that only the
    switch stops them), read first from a copy of the templates folder's files a test edits:
    ``copy(name)`` puts the template there as it is, ``edit(name, snippet, mark)`` marks the
    element ``snippet`` opens."""
    original_loader, original_reload = app.jinja_env.loader, app.jinja_env.auto_reload
    app.jinja_env.loader = ChoiceLoader([FileSystemLoader(str(tmp_path)), original_loader])
    app.jinja_env.auto_reload = True
    later = [0.0]

    def copy(name: str) -> str:
        source = (APP_DIR / "templates" / name).read_text(encoding="utf-8")
        write(name, source)
        return source

    def write(name: str, text: str) -> None:
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        later[0] = max(later[0], target.stat().st_mtime) + 10  # each write newer than the last
        os.utime(target, (later[0], later[0]))

    def edit(name: str, snippet: str, mark: str) -> None:
        source = (APP_DIR / "templates" / name).read_text(encoding="utf-8")
        assert snippet in source
        tag = snippet.split(" ", 1)[0]
        write(name, source.replace(snippet, f'{tag} data-edited="{mark}"' + snippet[len(tag):],
                                   1))

    yield copy, edit
    app.jinja_env.loader, app.jinja_env.auto_reload = original_loader, original_reload


@pytest.mark.parametrize("template", list(EDITS))
def test_an_edited_template_shows_on_the_next_request(client, login_as, make,
                                                      editable_templates, template):
    page, snippet = EDITS[template]
    ticket = make.ticket()
    staff = login_as(make.user(Role.DISPATCHER)) if page != "form" else client
    path = {"queue": "/tickets/?queue=all", "ticket": f"/tickets/{ticket.reference}",
            "form": "/request"}[page]

    def shown() -> str:
        for name in list(g):
            g.pop(name)
        response = staff.get(path)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    copy, edit = editable_templates
    copy(template)
    assert "data-edited" not in shown() and "data-edited" not in shown()  # seen, maybe kept
    edit(template, snippet, "first")
    assert 'data-edited="first"' in shown()
    edit(template, snippet, "second")
    again = shown()
    assert 'data-edited="second"' in again and 'data-edited="first"' not in again
