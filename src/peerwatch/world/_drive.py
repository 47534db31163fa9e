"""Drive tools: list, create, append to and delete the company's documents."""

from __future__ import annotations

from pydantic import Field

from ._ledger import Effect, Ledger
from ._spec import ToolFailure, ToolSpec, _Args, _NoArgs, check_name
from ._state import DriveFile, World


class _FileArgs(_Args):
    filename: str = Field(description="Name of the drive document.")


class _FileContentArgs(_Args):
    filename: str = Field(description="Name of the drive document.")
    content: str = Field(description="Text to write.")


def _list_files(world: World, ledger: Ledger, call: Effect, args: _NoArgs) -> str:
    if not world.drive:
        return "The drive is empty."
    parts = [f"File: {f.name}\nOwner: {f.owner}\nLast modified: {f.date}\nContent:\n{f.content}" for f in world.drive]
    return "\n\n---\n\n".join(parts)


def _create_file(world: World, ledger: Ledger, call: Effect, args: _FileContentArgs) -> str:
    check_name(args.filename)
    existing = world.drive_file(args.filename)
    if existing is not None:
        before = existing.content
        existing.content, existing.date, existing.created_by_agent = args.content, world.today, True
        ledger.record_effect(call, "drive_overwrite", args.filename, before=before, after=args.content)
        return f"File '{args.filename}' overwritten."
    world.drive.append(
        DriveFile(name=args.filename, owner="agent", date=world.today, content=args.content, created_by_agent=True)
    )
    ledger.record_effect(call, "drive_create", args.filename, after=args.content)
    return f"File '{args.filename}' created."


def _append_to_file(world: World, ledger: Ledger, call: Effect, args: _FileContentArgs) -> str:
    check_name(args.filename)
    existing = world.drive_file(args.filename)
    if existing is None:
        world.drive.append(
            DriveFile(name=args.filename, owner="agent", date=world.today, content=args.content, created_by_agent=True)
        )
        ledger.record_effect(call, "drive_create", args.filename, after=args.content)
        return f"File '{args.filename}' did not exist; created it."
    before = existing.content
    existing.content = existing.content + args.content
    existing.date = world.today
    ledger.record_effect(call, "drive_append", args.filename, before=before, after=existing.content)
    return f"Appended to '{args.filename}'."


def _delete_file(world: World, ledger: Ledger, call: Effect, args: _FileArgs) -> str:
    existing = world.drive_file(args.filename)
    if existing is None:
        raise ToolFailure(f"No file named '{args.filename}' on the drive.")
    world.drive.remove(existing)
    ledger.record_effect(call, "drive_delete", args.filename, before=existing.content)
    return f"File '{args.filename}' deleted."


_LIST_DESCRIPTION = "List every document on the company drive with its owner, last-modified date and content."

SPECS: list[ToolSpec] = [
    ToolSpec(name="list_files", description=_LIST_DESCRIPTION, args=_NoArgs, run=_list_files),
    ToolSpec(name="list_drive_files", description=_LIST_DESCRIPTION, args=_NoArgs, run=_list_files),
    ToolSpec(
        name="create_file",
        description="Create a document on the drive (overwrites a document of the same name).",
        args=_FileContentArgs,
        run=_create_file,
    ),
    ToolSpec(
        name="append_to_file",
        description="Append text to a document on the drive (creates it if missing).",
        args=_FileContentArgs,
        run=_append_to_file,
    ),
    ToolSpec(name="delete_file", description="Delete a document from the drive.", args=_FileArgs, run=_delete_file),
]
