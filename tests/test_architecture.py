"""Dependencies point one way: every import in ``app/`` goes from a package to a lower layer.

The layers are ARCHITECTURE.md's table. The test reads every module's source (its syntax
tree, so an import inside a function counts as much as one at the top), maps each import of
``app.…`` to its package, and fails on an import into the same or a higher layer and on any
cycle between packages, naming the file, the line and the import. A lower domain reaching into
an upper one (the registry importing visits, tickets importing the portal) is how a house
becomes hard to change; a new package must be given its place before it can be imported.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"

#: Each package's layer, lowest first. A package may import packages of lower layers only.
#: ``core`` is the foundation: ``app/core/`` with ``app/db.py`` and ``app/extensions.py``,
#: which import only each other. ``app`` is ``app/__init__.py``, the application factory.
LAYERS: dict[str, int] = {
    "core": 0,
    "auth": 1,
    "jobs": 2,
    "notifications": 3, "exports": 3,
    "firms": 4, "sla": 4,
    "tickets": 5,
    "ratings": 6, "projects": 6,
    "portal": 7, "visits": 7,
    "reports": 8, "admin": 8, "audit": 8, "main": 8, "api": 8,
    "demo": 9,
    "app": 10,
}

#: Modules beside the packages that belong to the foundation layer.
FOUNDATION_MODULES = {"app.db", "app.extensions"}

#: Module names whose code is business logic: they never read the request, the session or
#: flash messages: the view passes what they need (the user, the source address).
SERVICE_MODULES = {"services", "handlers", "notify", "workflow", "queries", "models", "panels",
                   "deadlines", "scan"}
REQUEST_NAMES = {"request", "session", "flash", "has_request_context"}
#: Infrastructure that, like the audit trail (``core/audit.py``), records the context of the
#: request that asked for something, so that no caller has to pass it along.
REQUEST_CONTEXT_RECORDERS = {
    "app/jobs/services.py",  # a queued job keeps its requester's address and language
}


@dataclass(frozen=True)
class Import:
    """One ``import`` statement's target, where it was written."""

    path: str  # relative to the repository
    line: int
    source: str  # the importing module
    target: str  # the imported module
    #: how the reference reads, when it is not a Python import (a template's include)
    label: str = ""

    def __str__(self) -> str:
        return f"{self.path}:{self.line} {self.label or 'imports ' + self.target}"


def package_of(module: str) -> str | None:
    """The layer table's name for a module of ``app``, or ``None`` outside ``app``."""
    parts = module.split(".")
    if parts[0] != "app":
        return None
    if len(parts) == 1:
        return "app"
    if parts[1] == "core" or ".".join(parts[:2]) in FOUNDATION_MODULES:
        return "core"
    return parts[1]


def module_name(path: Path) -> tuple[str, bool]:
    """``app/tickets/services.py`` → ``("app.tickets.services", False)``; a package's
    ``__init__.py`` gives the package's name and ``True``."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def imports_of(path: Path) -> list[Import]:
    """Every module ``path`` imports, at any depth (functions and methods included)."""
    module, is_package = module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join(package + ([node.module] if node.module else []))
            targets = [_from_app(alias.name) if base == "app" else base for alias in node.names]
        else:
            continue
        rel = str(path.relative_to(ROOT))
        found.extend(Import(rel, node.lineno, module, target) for target in targets)
    return found


def _from_app(name: str) -> str:
    """``from app import tickets`` imports the package ``app.tickets``; ``from app import
    create_app`` the factory's module ``app``."""
    inside = ROOT / "app"
    return f"app.{name}" if (inside / name).is_dir() or (inside / f"{name}.py").exists() else "app"


def app_imports() -> list[Import]:
    """Every import written in ``app/`` of another package of ``app``."""
    found = []
    for path in sorted(APP.rglob("*.py")):
        for row in imports_of(path):
            source, target = package_of(row.source), package_of(row.target)
            if target is not None and target != source:
                found.append(row)
    return found


#: A template's first folder is its package's (``tickets/detail.html``); these are everybody's.
SHARED_TEMPLATES = {"_macros", "_layout", "errors"}
TEMPLATE_REFERENCE = re.compile(
    r"""\{%-?\s*(include|import|from|extends)\s+["']([^"']+)["']""")

VERBS = {"include": "includes", "import": "imports", "from": "imports from", "extends": "extends"}


def template_package(name: str) -> str:
    """The package a template belongs to: its first folder, or ``core`` for shared ones."""
    folder, _sep, rest = name.partition("/")
    return "core" if not rest or folder in SHARED_TEMPLATES else folder


def template_references() -> list[Import]:
    """Every template that includes, imports or extends a template of another package, by
    name (a panel's template, included through the panel registry, is not named)."""
    found = []
    for path in sorted(APP.rglob("templates/**/*.html")):
        inside = path.relative_to(next(p for p in path.parents if p.name == "templates"))
        source = template_package(inside.as_posix())
        text = path.read_text(encoding="utf-8")
        for match in TEMPLATE_REFERENCE.finditer(text):
            target = template_package(match.group(2))
            if target != source:
                line = text.count("\n", 0, match.start()) + 1
                found.append(Import(str(path.relative_to(ROOT)), line, f"app.{source}",
                                    f"app.{target}",
                                    f'{VERBS[match.group(1)]} the template "{match.group(2)}"'))
    return found


def broken_rules(rows: list[Import], layers: dict[str, int]) -> list[str]:
    """Imports of a package not in a lower layer, each with its reason."""
    problems = []
    for row in rows:
        source, target = package_of(row.source), package_of(row.target)
        if source not in layers or target not in layers:
            unknown = source if source not in layers else target
            problems.append(f"{row}: package {unknown!r} has no layer in ARCHITECTURE.md")
        elif layers[target] >= layers[source]:
            problems.append(f"{row}: {source} (layer {layers[source]}) may not import "
                            f"{target} (layer {layers[target]})")
    return problems


def cycles(rows: list[Import]) -> list[str]:
    """Every cycle between packages, as its packages and one import of each step."""
    edges: dict[str, dict[str, Import]] = {}
    for row in rows:
        edges.setdefault(package_of(row.source), {}).setdefault(package_of(row.target), row)
    found, seen = [], set()
    for start in sorted(edges):
        path = _path_back(edges, start)
        if path and frozenset(path) not in seen:
            seen.add(frozenset(path))
            steps = [edges[a][b] for a, b in zip(path, path[1:] + path[:1], strict=True)]
            found.append(" → ".join([*path, path[0]]) + " (" + "; ".join(map(str, steps)) + ")")
    return found


def _path_back(edges: dict[str, dict[str, Import]], start: str) -> list[str] | None:
    """A shortest path of packages from ``start`` back to itself, or ``None``."""
    queue, came_from = [start], {}
    while queue:
        node = queue.pop(0)
        for nxt in sorted(edges.get(node, {})):
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return path[::-1]
            if nxt not in came_from:
                came_from[nxt] = node
                queue.append(nxt)
    return None


# -- the rules on the code of today ------------------------------------------------------------


def test_every_package_of_app_has_a_layer():
    packages = {path.parent.name for path in APP.glob("*/__init__.py")} | {"app"}
    assert sorted(packages - set(LAYERS)) == []
    assert sorted(set(LAYERS) - packages) == []


def documented_layers(text: str) -> dict[str, int]:
    """ARCHITECTURE.md's table: each row ``| layer | `package` ... | may import |``."""
    layers = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].isdigit():
            names = re.findall(r"`([a-z_]+)`", cells[1])
            assert names, f"no package named in the row {line!r}"
            layers.update(dict.fromkeys(names, int(cells[0])))
    return layers


def test_architecture_md_shows_the_layers_this_test_enforces():
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    assert documented_layers(text) == LAYERS
    picture = text[text.index("```") + 3:text.index("```", text.index("```") + 3)]
    for package, layer in LAYERS.items():
        row = next(line for line in picture.splitlines() if line.split()[:1] == [str(layer)])
        assert re.search(rf"\b{package}\b", row), f"{package} not drawn on layer {layer}"


def test_no_cycle_between_packages():
    assert cycles(app_imports() + template_references()) == []


def test_every_import_points_to_a_lower_layer():
    assert broken_rules(app_imports(), LAYERS) == []


def test_templates_name_only_templates_of_lower_layers():
    assert broken_rules(template_references(), LAYERS) == []


def test_business_code_never_reads_the_request():
    offending = []
    for path in sorted(APP.rglob("*.py")):
        name = path.stem if path.stem != "__init__" else path.parent.name
        business = name in SERVICE_MODULES or "models" in path.relative_to(APP).parts
        if not business or str(path.relative_to(ROOT)) in REQUEST_CONTEXT_RECORDERS:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "flask":
                names = {alias.name for alias in node.names} & REQUEST_NAMES
                if names:
                    offending.append(f"{path.relative_to(ROOT)}:{node.lineno} "
                                     f"imports {', '.join(sorted(names))} from flask")
            elif isinstance(node, ast.Attribute) and node.attr in REQUEST_NAMES and \
                    isinstance(node.value, ast.Name) and node.value.id == "flask":
                offending.append(f"{path.relative_to(ROOT)}:{node.lineno} reads flask.{node.attr}")
    assert offending == []


# -- the checker itself: it finds what it is there to find -------------------------------------


def _row(source: str, target: str, line: int = 1) -> Import:
    return Import(source.replace(".", "/") + ".py", line, source, target)


def test_a_lower_domain_importing_an_upper_one_is_named():
    rows = [_row("app.firms.views", "app.visits.panels", 51),
            _row("app.tickets.services", "app.sla.enums")]
    assert broken_rules(rows, LAYERS) == [
        "app/firms/views.py:51 imports app.visits.panels: firms (layer 4) may not import "
        "visits (layer 7)"]


def test_an_import_inside_a_function_counts(tmp_path, monkeypatch):
    package = tmp_path / "app" / "firms"
    package.mkdir(parents=True)
    (package / "views.py").write_text(
        "def page():\n    from app.tickets.panels import firm_ticket_panel\n", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    [row] = imports_of(package / "views.py")
    assert (row.source, row.target, row.line) == ("app.firms.views", "app.tickets.panels", 2)


def test_a_relative_import_is_resolved(tmp_path, monkeypatch):
    package = tmp_path / "app" / "tickets"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("from . import views\nfrom ..portal import x\n",
                                         encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert [row.target for row in imports_of(package / "__init__.py")] == [
        "app.tickets", "app.portal"]


def test_a_cycle_is_named_with_an_import_of_each_step():
    rows = [_row("app.tickets.panels", "app.ratings.models", 22),
            _row("app.ratings.services", "app.tickets.services", 37),
            _row("app.ratings.views", "app.tickets.models", 9)]
    assert cycles(rows) == [
        "ratings → tickets → ratings (app/ratings/services.py:37 imports app.tickets.services; "
        "app/tickets/panels.py:22 imports app.ratings.models)"]


def test_a_template_of_an_upper_domain_is_named():
    rows = [Import("app/templates/tickets/detail.html", 96, "app.tickets", "app.portal",
                   'includes the template "portal/_snippet_picker.html"')]
    assert broken_rules(rows, LAYERS) == [
        'app/templates/tickets/detail.html:96 includes the template '
        '"portal/_snippet_picker.html": tickets (layer 5) may not import portal (layer 7)']


@pytest.mark.parametrize("name, package", [
    ("base.html", "core"), ("_macros/forms.html", "core"), ("errors/404.html", "core"),
    ("tickets/detail.html", "tickets"), ("notifications/index.html", "notifications")])
def test_templates_map_to_their_package(name, package):
    assert template_package(name) == package


def test_a_table_row_that_differs_is_found():
    text = "| 5 | `tickets` | layers 0–4 |\n| 4 | `firms`, `sla` | layers 0–3 |\n| x | y |\n"
    assert documented_layers(text) == {"tickets": 5, "firms": 4, "sla": 4}


def test_an_unknown_package_is_refused():
    [problem] = broken_rules([_row("app.newdomain.views", "app.tickets.models")], LAYERS)
    assert "package 'newdomain' has no layer" in problem


@pytest.mark.parametrize("module, package", [
    ("app", "app"), ("app.db", "core"), ("app.extensions", "core"), ("app.core.clock", "core"),
    ("app.tickets.models.enums", "tickets"), ("flask", None), ("application", None)])
def test_modules_map_to_their_package(module, package):
    assert package_of(module) == package


def test_the_ticket_services_stay_verbs():
    """Issue 17: the action table, the handlers and who is told live in their own modules;
    the verbs stay short enough to read in one sitting."""
    lines = (APP / "tickets" / "services.py").read_text(encoding="utf-8").count("\n")
    assert lines < 400


def test_links_are_built_from_the_routes(app):
    """A path typed out in code (``f"/tickets/{ref}"``) breaks silently when a route changes:
    code builds links with ``url_for`` or :func:`app.core.links.path_for`."""
    prefixes = {rule.rule.split("/")[1] for rule in app.url_map.iter_rules()} - {"", "static"}
    typed = []
    for path in sorted(APP.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        routes = _route_patterns(tree)
        for node in ast.walk(tree):
            if id(node) in routes or not isinstance(node, ast.Constant | ast.JoinedStr):
                continue
            first = node.values[0] if isinstance(node, ast.JoinedStr) and node.values else node
            text = first.value if isinstance(first, ast.Constant) else None
            if isinstance(text, str) and text.startswith("/") and \
                    re.split(r"[/?]", text[1:])[0] in prefixes:
                typed.append(f"{path.relative_to(ROOT)}:{node.lineno} {text!r}")
    assert list(dict.fromkeys(typed)) == []  # an f-string's text is also one of its parts


def _route_patterns(tree: ast.AST) -> set[int]:
    """The nodes of ``@bp.route("…")`` and ``add_url_rule("…")`` patterns and ``url_prefix="…"``
    arguments: the routes themselves, where paths are written on purpose."""
    found = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("route", "add_url_rule"):
            found.update(id(arg) for arg in node.args)
        found.update(id(k.value) for k in node.keywords if k.arg == "url_prefix")
    return found
