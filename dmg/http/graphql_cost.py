"""Limits on GraphQL operations: how deep and how costly an operation may be, for any service's schema.

Every operation is measured before it runs (:func:`operation_limits` makes the validation rule from a service's
:class:`CostRules`):

- **depth**: the deepest nesting of fields (a root field is depth 1);
- **cost**: every field costs 1, and everything selected under a paginated field is multiplied by its page size:
  the literal ``first:`` argument, ``max_page_size`` when ``first`` is a variable (its value is not known at
  validation), and ``default_page_size`` when one of the service's ``connections`` omits it. So with the registry's
  rules ``modules(first: 50) { edges { node { dxn version } } }`` costs 1 + 50 × (1 + 1 + 2) = 201, and a thousand
  aliased ``resolve`` fields cost at least a thousand.

The measure is linear in the document: each fragment is measured once and its ``(depth, cost)`` reused wherever it
is spread, so a document that spreads fragments inside fragments (a "fragment bomb", whose expansion doubles with
every level) is priced in microseconds and refused for its exponential cost, not expanded. A fragment cycle counts
nothing here (graphql-core's ``NoFragmentCyclesRule`` refuses it).

Introspection fields (``__schema``, ``__type``, ``__typename``) are not counted: graphql-core's own
``MaxIntrospectionDepthRule`` bounds those, and GraphiQL's introspection query must always work. An operation over
either limit is refused as a whole with code ``TOO_LARGE``. How errors get their codes is :mod:`dmg.http.graphql`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
)

from dmg.core.errors import ErrorCode


@dataclass(frozen=True)
class CostRules:
    """A service's limits and how its paginated fields are priced."""

    max_depth: int
    max_cost: int
    connections: frozenset[str] = field(default_factory=frozenset)
    """Fields that return a page even when ``first`` is omitted (priced at ``default_page_size`` then)."""
    default_page_size: int = 20
    max_page_size: int = 100

    def page_size(self, node: FieldNode) -> int | None:
        """How many items ``node`` returns per page, as far as the document says; None if it is not paginated."""
        for argument in node.arguments or ():
            if argument.name.value == "first":
                value = argument.value
                return max(0, int(value.value)) if isinstance(value, IntValueNode) else self.max_page_size
        return self.default_page_size if node.name.value in self.connections else None


class _Measure:
    """Depth and cost of the operations of one document, each fragment measured once."""

    def __init__(self, rules: CostRules, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.rules = rules
        self.fragments = fragments
        self.measured: dict[str, tuple[int, int]] = {}
        self.measuring: set[str] = set()

    def fragment(self, name: str) -> tuple[int, int]:
        known = self.measured.get(name)
        if known is not None:
            return known
        definition = self.fragments.get(name)
        if definition is None or name in self.measuring:
            return 0, 0
        self.measuring.add(name)
        try:
            measured = self.measure(definition.selection_set)
        finally:
            self.measuring.discard(name)
        self.measured[name] = measured
        return measured

    def measure(self, selections: SelectionSetNode | None) -> tuple[int, int]:
        """``(depth, cost)`` of a selection set."""
        depth = cost = 0
        for selection in selections.selections if selections else ():
            if isinstance(selection, FieldNode):
                if selection.name.value.startswith("__"):
                    continue
                child_depth, child_cost = self.measure(selection.selection_set)
                depth = max(depth, 1 + child_depth)
                cost += 1 + (self.rules.page_size(selection) or 1) * child_cost
            elif isinstance(selection, InlineFragmentNode):
                inner_depth, inner_cost = self.measure(selection.selection_set)
                depth, cost = max(depth, inner_depth), cost + inner_cost
            elif isinstance(selection, FragmentSpreadNode):
                inner_depth, inner_cost = self.fragment(selection.name.value)
                depth, cost = max(depth, inner_depth), cost + inner_cost
        return depth, cost


def operation_limits(rules: CostRules) -> type[ValidationRule]:
    """A validation rule refusing operations deeper than ``rules.max_depth`` or costlier than ``rules.max_cost``."""

    class OperationLimits(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            fragments = {
                definition.name.value: definition
                for definition in self.context.document.definitions
                if isinstance(definition, FragmentDefinitionNode)
            }
            depth, cost = _Measure(rules, fragments).measure(node.selection_set)
            name = f"operation {node.name.value!r}" if node.name else "the operation"
            if depth > rules.max_depth:
                self.report_error(
                    GraphQLError(
                        f"{name} nests fields {depth} deep; this server allows {rules.max_depth}: split it into "
                        "several queries",
                        node,
                        extensions={"code": ErrorCode.TOO_LARGE},
                    )
                )
            if cost > rules.max_cost:
                self.report_error(
                    GraphQLError(
                        f"{name} costs {cost}; this server allows {rules.max_cost} (each field costs 1, times the "
                        "page size of paginated fields): ask for fewer fields or a smaller first:",
                        node,
                        extensions={"code": ErrorCode.TOO_LARGE},
                    )
                )

    return OperationLimits
