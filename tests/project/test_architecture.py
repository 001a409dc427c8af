"""The import graph has no cycle, between modules or between apps, counting imports inside functions too;
row locks live only in locks.py modules and error codes only in error_codes.py modules.

Run as a script (`python tests/project/test_architecture.py`) it prints both graphs' cycles, or that there are none."""

import ast
import itertools
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The project's own top-level packages: imports of anything else (Django, Celery...) are not edges.
PACKAGES = ("core", "order_project", "users", "products", "orders")
# The project's composition root: settings, URLs, Celery, WSGI/ASGI and the health view, which checks the
# whole service (it reads the outbox). It wires the apps together, so it imports them and none imports it.
PROJECT_ROOT = {
    "order_project",
    "order_project.settings",
    "order_project.settings.test",
    "order_project.urls",
    "order_project.celery",
    "order_project.wsgi",
    "order_project.asgi",
    "order_project.health",
}
# The apps, each allowed to import only those after it. The rest of order_project is API plumbing with
# domain words (pagination, permissions, throttling, schema, examples...): it imports core and no app.
APP_LAYERS = ("project", "orders", "products", "users", "order_project", "core")


def project_modules() -> dict[str, Path]:
    """Every module of the project's packages by dotted name, migrations aside."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).with_suffix("")
            if "migrations" in relative.parts:
                continue
            parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
            modules[".".join(parts)] = path
    return modules


def imported_names(module: str, path: Path) -> Iterator[tuple[tuple[str, ...], int, bool]]:
    """(candidate dotted names, line, inside a function) for each name `module` imports, at any depth of the
    tree: `from package import name` imports the module package.name if there is one, else package."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    functions = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)

    def walk(node: ast.AST, in_function: bool) -> Iterator[tuple[tuple[str, ...], int, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield (alias.name,), child.lineno, in_function
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in child.names:
                    yield (f"{base}.{alias.name}", base), child.lineno, in_function
            yield from walk(child, in_function or isinstance(child, functions))

    yield from walk(ast.parse(path.read_text(), str(path)), False)


def module_graph() -> tuple[dict[str, set[str]], list[str]]:
    """Edges between project modules, and where the imports inside functions are."""
    modules = project_modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    in_functions = []
    for module, path in modules.items():
        for candidates, line, in_function in imported_names(module, path):
            name = next((candidate for candidate in candidates if candidate in modules), None)
            if name is not None and name != module:
                graph[module].add(name)
                if in_function:
                    in_functions.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return graph, sorted(set(in_functions))


def app_of(module: str) -> str:
    return "project" if module in PROJECT_ROOT else module.split(".")[0]


def app_graph(modules: dict[str, set[str]]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {app: set() for app in APP_LAYERS}
    for module, targets in modules.items():
        graph[app_of(module)].update(app_of(target) for target in targets if app_of(target) != app_of(module))
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """In each strongly connected component of more than one node (Tarjan), the shortest cycle through each
    of its members (breadth-first), each cycle once: what there is to break."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            connect(node)
    found: dict[frozenset[tuple[str, str]], list[str]] = {}
    for component in components:
        for start in sorted(component):
            cycle = shortest_cycle(graph, component, start)
            found.setdefault(frozenset(itertools.pairwise(cycle)), cycle)
    return list(found.values())


def shortest_cycle(graph: dict[str, set[str]], component: set[str], start: str) -> list[str]:
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(graph[node] & component):
                if target == start:
                    return [*paths[node], start]
                if target not in paths:
                    paths[target] = [*paths[node], target]
                    following.append(target)
        frontier = following
    raise AssertionError(f"no cycle through {start}")  # a strongly connected component always has one


def report(kind: str, found: list[list[str]]) -> str:
    return "\n".join(f"{kind} import cycle: {' -> '.join(cycle)}" for cycle in found)


def test_no_import_cycle_between_modules():
    graph, _ = module_graph()
    found = cycles(graph)
    assert not found, report("module", found)


def test_no_import_cycle_between_apps():
    found = cycles(app_graph(module_graph()[0]))
    assert not found, report("app", found)


def test_apps_import_only_downwards():
    """core <- order_project's plumbing <- users <- products <- orders <- the project root: orders may import
    products and users, products may import users, core imports nothing of the project."""
    modules, _ = module_graph()
    upward = sorted(
        f"{module} imports {target}"
        for module, targets in modules.items()
        for target in targets
        if APP_LAYERS.index(app_of(target)) < APP_LAYERS.index(app_of(module))
    )
    assert not upward, "\n".join(upward)


def test_checker_finds_a_cycle_and_imports_inside_functions(tmp_path):
    """The checker itself: a cycle hidden by an import inside a function is reported."""
    (tmp_path / "a.py").write_text("from b import x\n")
    (tmp_path / "b.py").write_text("def f():\n    from a import y\n")
    names = list(imported_names("b", tmp_path / "b.py"))
    assert (("a.y", "a"), 2, True) in names
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b", "a"]]
    assert cycles({"a": {"b", "c"}, "b": {"a"}, "c": {"a"}}) == [["a", "b", "a"], ["c", "a", "c"]]


def literal_error_codes(path: Path) -> Iterator[int]:
    """Lines where a `code=` argument is a string literal instead of a member of an error_codes enum."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if (
                    keyword.arg == "code"
                    and isinstance(keyword.value, ast.Constant)
                    and isinstance(keyword.value.value, str)
                ):
                    yield keyword.value.lineno


def test_error_codes_are_written_only_in_error_codes_modules():
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in project_modules().values()
        if path.name != "error_codes.py"
        for line in literal_error_codes(path)
    ]
    assert not found, f"error codes written as literals (use the app's error_codes enum): {found}"


ROW_LOCKS = ("select_for_update", "FOR UPDATE", "FOR SHARE", "FOR NO KEY UPDATE")


def test_row_locks_are_taken_only_in_locks_modules():
    found = [
        str(path.relative_to(ROOT))
        for path in project_modules().values()
        if path.name != "locks.py" and any(lock in path.read_text() for lock in ROW_LOCKS)
    ]
    assert not found, f"row locks outside a locks.py (locks are taken in primary-key order there): {found}"


if __name__ == "__main__":
    graph, in_functions = module_graph()
    print(f"{len(graph)} modules, {sum(map(len, graph.values()))} imports between them")
    print("imports inside functions:", *in_functions or ["none"], sep="\n  ")
    found = cycles(graph) + cycles(app_graph(graph))
    print(report("module", cycles(graph)) or "no module import cycle")
    print(report("app", cycles(app_graph(graph))) or "no app import cycle")
    sys.exit(1 if found else 0)
