"""Limits on GraphQL operations: how deep and how costly an operation may be.

Every operation is measured before it runs (:func:`operation_limits` makes the validation rule):

- **depth**: the deepest nesting of fields (a root field is depth 1);
- **cost**: every field costs 1, and everything selected under a paginated field is multiplied by its page size:
  the literal ``first:`` argument, :data:`~dmg.store.base.MAX_PAGE_SIZE` when ``first`` is a variable (its value is
  not known at validation), and :data:`DEFAULT_PAGE_SIZE` when a connection field omits it. So
  ``modules(first: 50) { edges { node { dxn version } } }`` costs 1 + 50 × (1 + 1 + 2) = 201, and a thousand
  aliased ``resolve`` fields cost at least a thousand.

Introspection fields (``__schema``, ``__type``, ``__typename``) are not counted: graphql-core's own
``MaxIntrospectionDepthRule`` bounds those, and GraphiQL's introspection query must always work. An operation over
either limit is refused as a whole with code ``TOO_LARGE``. How errors get their codes is
:mod:`dmg.web.graphql`'s.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

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

from dmg.store.base import MAX_PAGE_SIZE

DEFAULT_PAGE_SIZE: Final = 20
CONNECTION_FIELDS: Final = frozenset({"modules"})
TOO_LARGE: Final = "TOO_LARGE"


def page_size(field: FieldNode) -> int | None:
    """How many items ``field`` returns per page, as far as the document says; None if it is not paginated."""
    for argument in field.arguments or ():
        if argument.name.value == "first":
            value = argument.value
            return max(0, int(value.value)) if isinstance(value, IntValueNode) else MAX_PAGE_SIZE
    return DEFAULT_PAGE_SIZE if field.name.value in CONNECTION_FIELDS else None


class _Measure:
    """Depth and cost of one operation, with fragments expanded (a fragment cycle is another rule's error)."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments

    def fields(self, selections: SelectionSetNode | None, expanding: frozenset[str]) -> Iterator[FieldNode]:
        for selection in selections.selections if selections else ():
            if isinstance(selection, FieldNode):
                if not selection.name.value.startswith("__"):
                    yield selection
            elif isinstance(selection, InlineFragmentNode):
                yield from self.fields(selection.selection_set, expanding)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in expanding:
                    yield from self.fields(fragment.selection_set, expanding | {name})

    def measure(self, selections: SelectionSetNode | None, expanding: frozenset[str] = frozenset()) -> tuple[int, int]:
        """``(depth, cost)`` of a selection set."""
        depth = cost = 0
        for field in self.fields(selections, expanding):
            child_depth, child_cost = self.measure(field.selection_set, expanding)
            depth = max(depth, 1 + child_depth)
            cost += 1 + (page_size(field) or 1) * child_cost
        return depth, cost


def operation_limits(max_depth: int, max_cost: int) -> type[ValidationRule]:
    """A validation rule refusing operations deeper than ``max_depth`` or costlier than ``max_cost``."""

    class OperationLimits(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            fragments = {
                definition.name.value: definition
                for definition in self.context.document.definitions
                if isinstance(definition, FragmentDefinitionNode)
            }
            depth, cost = _Measure(fragments).measure(node.selection_set)
            name = f"operation {node.name.value!r}" if node.name else "the operation"
            if depth > max_depth:
                self.report_error(
                    GraphQLError(
                        f"{name} nests fields {depth} deep; this server allows {max_depth}: split it into "
                        "several queries",
                        node,
                        extensions={"code": TOO_LARGE},
                    )
                )
            if cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"{name} costs {cost}; this server allows {max_cost} (each field costs 1, times the page size "
                        "of paginated fields): ask for fewer fields or a smaller first:",
                        node,
                        extensions={"code": TOO_LARGE},
                    )
                )

    return OperationLimits
