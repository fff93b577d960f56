"""An import-linter contract for firegrid's bounded contexts (``make lint`` runs it).

Every package directly under the root package is a *context* unless it is listed as the
shared kernel or the composition root. A module of one context may import from another
context only:

- the shared kernel (``firegrid.core``: ids, jurisdiction paths, clock, errors, db, settings,
  the change stream, the CLI kit, writes), from anywhere — and the kernel imports no context;
- the other context's package itself (its ``__init__``) or one of the modules listed in
  ``public_modules`` (``firegrid.*.public`` for every context, plus a few named edges).

The composition root (the ``firegrid`` command, ``schema``, the app factory, the demo, the
migrations) may import anything. So a context added later is covered without editing the
contract: it is "firegrid.<name>", and its leaks fail ``lint-imports``. Imports that are known
and not fixed yet are listed in ``ignore_imports`` (each an explicit exception).
"""

from __future__ import annotations

from typing import Any

from grimp import ImportGraph
from importlinter.application import contract_utils, output
from importlinter.application.contract_utils import AlertLevel
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck
from importlinter.domain.helpers import module_expressions_to_modules


class ContextBoundariesContract(Contract):
    """Contexts import each other only through their public modules.

    Options: ``root_package``; ``kernel`` and ``composition_root`` (module expressions,
    taken as packages); ``public_modules`` (module expressions another context may import);
    ``ignore_imports`` (known exceptions, ``importer -> imported``).
    """

    type_name = "context_boundaries"

    root_package = fields.StringField()
    kernel = fields.ListField(subfield=fields.ModuleExpressionField())
    composition_root = fields.ListField(subfield=fields.ModuleExpressionField())
    public_modules = fields.ListField(subfield=fields.ModuleExpressionField())
    ignore_imports = fields.SetField(subfield=fields.ImportExpressionField(), required=False)
    unmatched_ignore_imports_alerting = fields.EnumField(AlertLevel, default=AlertLevel.ERROR)

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        removal = contract_utils.remove_ignored_imports_and_report(
            graph=graph,
            ignore_imports=self.ignore_imports,  # type: ignore[arg-type]
            unmatched_alerting=self.unmatched_ignore_imports_alerting,  # type: ignore[arg-type]
        )
        root = str(self.root_package)

        def names(expressions: Any) -> set[str]:
            return {m.name for m in module_expressions_to_modules(graph, expressions)}

        def with_descendants(modules: set[str]) -> set[str]:
            out = set(modules)
            for module in modules:
                out |= graph.find_descendants(module)
            return out

        kernel = with_descendants(names(self.kernel))
        composition = with_descendants(names(self.composition_root))
        public = names(self.public_modules)

        def context(module: str) -> str:
            return ".".join(module.split(".")[:2])

        broken = []
        for importer in sorted(kernel):  # the kernel depends on no context
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                if imported.startswith(root + ".") and imported not in kernel:
                    lines = [
                        d["line_number"]
                        for d in graph.get_import_details(importer=importer, imported=imported)
                    ]
                    broken.append({"importer": importer, "imported": imported, "lines": lines})
        for importer in sorted(graph.modules):
            if not importer.startswith(root + ".") or importer in kernel or importer in composition:
                continue
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                if not imported.startswith(root + "."):
                    continue
                if context(imported) == context(importer) or imported in kernel:
                    continue
                if imported == context(imported) or imported in public:
                    continue
                lines = [
                    detail["line_number"]
                    for detail in graph.get_import_details(importer=importer, imported=imported)
                ]
                broken.append({"importer": importer, "imported": imported, "lines": lines})
        output.verbose_print(verbose, f"{len(broken)} imports across context boundaries")
        return ContractCheck(
            kept=not broken,
            warnings=list(removal.warnings),
            ignored_import_count=removal.ignored_import_count,
            metadata={"broken": broken},
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        for item in check.metadata["broken"]:
            lines = ", ".join(f"l.{n}" for n in item["lines"])
            output.print_error(
                f"{item['importer']} -> {item['imported']} ({lines}): import it from "
                f"{'.'.join(item['imported'].split('.')[:2])}.public instead",
                bold=False,
            )
            output.new_line()
