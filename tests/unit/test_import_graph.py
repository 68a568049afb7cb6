"""No import cycles among the product's modules (engine, web, signatures, documents).

A cycle is a pair of modules that can only be read, tested and changed together, and one held together by an
import at the bottom of a file or inside a function breaks with the next reordering. The graph is grimp's (the
library import-linter runs on): module-level, function-level and `if TYPE_CHECKING:` imports all count as
edges. An edge may be left out of the check only with its reason in `JUSTIFIED` — there is none today.
"""

from __future__ import annotations

import grimp
import pytest

PRODUCT = ("engine", "web", "signatures", "documents")

# (importer, imported) -> why this edge may close a cycle. Empty: every cycle was broken by moving code.
JUSTIFIED: dict[tuple[str, str], str] = {}


def product_graph() -> grimp.ImportGraph:
    graph = grimp.build_graph(*PRODUCT, cache_dir=None)
    for importer, imported in JUSTIFIED:
        graph.remove_import(importer=importer, imported=imported)
    return graph


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    cycles: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, successors = work[-1]
            for nxt in successors:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.find_modules_directly_imported_by(nxt)))))
                    break
                if nxt in on_stack:
                    low[module] = min(low[module], index[nxt])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[module])
                if low[module] == index[module]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == module:
                            break
                    if len(component) > 1:
                        cycles.append(sorted(component))
    return sorted(cycles)


def _describe(graph: grimp.ImportGraph, cycle: list[str]) -> str:
    members = set(cycle)
    lines = [" <-> ".join(cycle)]
    for importer in cycle:
        for imported in sorted(graph.find_modules_directly_imported_by(importer) & members):
            for detail in graph.get_import_details(importer=importer, imported=imported):
                lines.append(f"    {importer}:{detail['line_number']}  {detail['line_contents']}")
    return "\n".join(lines)


def test_the_product_has_no_import_cycle():
    graph = product_graph()
    cycles = import_cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(_describe(graph, c) for c in cycles)


def test_function_level_and_type_checking_imports_are_edges():
    graph = product_graph()
    # The console script imports the server only inside its commands; the calendar use cases name Services only
    # for types.
    assert graph.direct_import_exists(importer="web.cli", imported="web.serve")
    assert graph.direct_import_exists(importer="engine.usecases.calendar", imported="engine.services")


@pytest.mark.parametrize(("edges", "expected"), [
    ([("a.x", "a.y"), ("a.y", "a.x")], [["a.x", "a.y"]]),
    ([("a.x", "a.y"), ("a.y", "a.z"), ("a.z", "a.x"), ("a.z", "a.w")], [["a.x", "a.y", "a.z"]]),
    ([("a.x", "a.y"), ("a.y", "a.z"), ("a.x", "a.z")], []),
])
def test_the_check_finds_a_cycle_of_any_length(edges, expected):
    graph = grimp.ImportGraph()
    for importer, imported in edges:
        graph.add_import(importer=importer, imported=imported)
    assert import_cycles(graph) == expected


def test_every_justified_edge_exists():
    """A justification outlives its import only by mistake."""
    graph = grimp.build_graph(*PRODUCT, cache_dir=None)
    stale = [edge for edge in JUSTIFIED if not graph.direct_import_exists(importer=edge[0], imported=edge[1])]
    assert stale == []
