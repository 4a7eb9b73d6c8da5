"""The layout in docs/architecture.md holds: no import cycle, no HTTP below views."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from webinars import files
from webinars.models import Registrant

APP = Path(__file__).resolve().parent.parent / "webinars"
# The HTTP layer: the only modules that may import django.http.
HTTP_LAYER = ("webinars.views", "webinars.admin", "webinars.middleware")


def module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def app_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for path in APP.rglob("*.py")
        if "migrations" not in path.parts
    }


def imported_names(path: Path) -> set[str]:
    """Every module path imports, at module level or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def app_imports() -> dict[str, set[str]]:
    """The graph of webinars' modules: who imports whom."""
    modules = app_modules()
    return {
        name: {imported for imported in imported_names(path) if imported in modules}
        - {name}
        for name, path in modules.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    visiting, done = [], set()

    def visit(node):
        if node in visiting:
            return visiting[visiting.index(node) :] + [node]
        if node in done:
            return None
        visiting.append(node)
        for target in sorted(graph[node]):
            if cycle := visit(target):
                return cycle
        visiting.pop()
        done.add(node)
        return None

    for node in sorted(graph):
        if cycle := visit(node):
            return cycle
    return None


def test_the_app_has_no_import_cycle():
    assert find_cycle(app_imports()) is None


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}

    assert find_cycle(graph) == ["a", "b", "c", "a"]


def test_a_function_level_import_counts_too(tmp_path):
    module = tmp_path / "module.py"
    module.write_text("def f():\n    from webinars import models\n")

    assert "webinars.models" in imported_names(module)


@pytest.mark.parametrize(
    "module",
    sorted(name for name in app_modules() if not name.startswith(HTTP_LAYER)),
)
def test_nothing_below_the_views_imports_django_http(module):
    imported = imported_names(app_modules()[module])

    assert not {name for name in imported if name.startswith("django.http")}


def test_the_files_module_knows_no_model_and_no_view():
    imported = imported_names(app_modules()["webinars.files"])

    assert not {
        name
        for name in imported
        if name.startswith(("webinars.models", "webinars.views", "webinars.services"))
    }


def test_the_models_store_photos_where_the_files_module_serves_them():
    assert Registrant._meta.get_field("photo").upload_to == files.PHOTO_DIRECTORY
    assert files.PHOTO_DIRECTORY in files.SERVED_DIRECTORIES


def test_every_module_the_architecture_page_names_exists():
    page = (APP.parent / "docs" / "architecture.md").read_text()
    named = set(re.findall(r"`((?:[a-z_]+/)*[a-z_]+\.py)`", page))

    assert "services.py" in named
    for name in named:
        assert (APP / name).exists() or (APP.parent / name).exists(), name
