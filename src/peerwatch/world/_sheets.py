"""Spreadsheet tools: list the sheets and show one."""

from __future__ import annotations

from pydantic import Field

from ._ledger import Effect, Ledger
from ._spec import ToolFailure, ToolSpec, _Args, _NoArgs
from ._state import World


class _SheetArgs(_Args):
    sheet_name: str = Field(description="Name of the sheet.")


def _list_sheets(world: World, ledger: Ledger, call: Effect, args: _NoArgs) -> str:
    if not world.sheets:
        return "No sheets."
    return "Sheets:\n" + "\n".join(f"- {s.name}" for s in world.sheets)


def _view_sheet(world: World, ledger: Ledger, call: Effect, args: _SheetArgs) -> str:
    sheet = world.sheet(args.sheet_name)
    if sheet is None:
        names = ", ".join(s.name for s in world.sheets) or "none"
        raise ToolFailure(f"No sheet named '{args.sheet_name}'. Sheets: {names}.")
    lines = [" | ".join(["Row", *sheet.columns])]
    lines += [" | ".join([str(i + 1), *(str(c) for c in row)]) for i, row in enumerate(sheet.rows)]
    return "\n".join(lines)


SPECS: list[ToolSpec] = [
    ToolSpec(name="list_sheets", description="List the spreadsheet's sheets.", args=_NoArgs, run=_list_sheets),
    ToolSpec(name="view_sheet", description="Show every row of a sheet.", args=_SheetArgs, run=_view_sheet),
]
