"""An import-linter contract the built-in ones cannot state: no module of a set imports a
subpackage of an external package (`django.http`), directly or through the project's own modules.

import-linter sees an external package whole (`django`), so this contract reads the line of
each import of it. Only `lint-imports` loads this module; the project never imports it.
"""

import re
from typing import cast

from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck
from importlinter.domain.helpers import module_expressions_to_modules
from importlinter.domain.imports import ModuleExpression


def _imports_subpackage(line: str, subpackage: str) -> bool:
    """`from django.http import …`, `import django.http…` or `from django import http`."""
    parent, _, name = subpackage.rpartition(".")
    return bool(re.search(rf"\b{re.escape(subpackage)}\b", line)
                or re.search(rf"\bfrom\s+{re.escape(parent)}\s+import\b.*\b{re.escape(name)}\b", line))


class ForbiddenExternalSubpackageContract(Contract):
    """Configuration: `source_modules` (expressions, wildcards allowed) and `forbidden_subpackages`."""

    source_modules = fields.ListField(subfield=fields.ModuleExpressionField())
    forbidden_subpackages = fields.ListField(subfield=fields.StringField())

    def check(self, graph, verbose: bool) -> ContractCheck:
        # Contract.__init__ replaces each field with its parsed value: a list of what its subfield parses.
        source_modules = cast(list[ModuleExpression], self.source_modules)
        forbidden_subpackages = cast(list[str], self.forbidden_subpackages)
        violations = []
        for source in sorted(module_expressions_to_modules(graph, source_modules), key=lambda m: m.name):
            reachable = {source.name, *graph.find_upstream_modules(source.name)}
            for importer in sorted(reachable):
                for subpackage in forbidden_subpackages:
                    root = subpackage.split(".")[0]
                    if root not in graph.modules or not graph.direct_import_exists(importer=importer, imported=root):
                        continue
                    for detail in graph.get_import_details(importer=importer, imported=root):
                        if _imports_subpackage(detail["line_contents"], subpackage):
                            chain = ((source.name,) if importer == source.name
                                     else graph.find_shortest_chain(importer=source.name, imported=importer))
                            violations.append({"source": source.name, "subpackage": subpackage, "chain": chain,
                                               "line": detail["line_number"], "text": detail["line_contents"]})
        return ContractCheck(kept=not violations, metadata={"violations": violations})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for violation in check.metadata["violations"]:
            output.print_error(
                f"{violation['source']} is not allowed to import {violation['subpackage']}: "
                f"{' -> '.join(violation['chain'])} (l.{violation['line']}: {violation['text']})"
            )
            output.new_line()
