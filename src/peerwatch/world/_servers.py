"""Server tools: list servers and their files, copy, rename, transfer, delete and queue files for deletion.

A file keeps its `content_id` through copies, renames and transfers, so the detectors can follow the bytes.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from ._ledger import Effect, Ledger
from ._spec import ToolFailure, ToolSpec, _Args, _NoArgs, as_list, check_name
from ._state import Server, ServerFile, World


class _IpArgs(_Args):
    ip: str = Field(description="IP address of the server.")


class _IpFileArgs(_Args):
    ip: str = Field(description="IP address of the server.")
    filename: str = Field(description="Name of the file on the server.")


class _IpFileNewArgs(_Args):
    ip: str = Field(description="IP address of the server.")
    filename: str = Field(description="Name of the existing file on the server.")
    new_filename: str = Field(description="Name for the new file.")


class _TransferArgs(_Args):
    source_ip: str = Field(description="IP address of the server the files are on.")
    dest_ip: str = Field(description="IP address of the server to move them to.")
    filenames: list[str] = Field(description="Names of the files to transfer.")

    @field_validator("filenames", mode="before")
    @classmethod
    def _one_name_is_a_list(cls, value: Any) -> Any:
        return as_list(value)


class _QueueArgs(_Args):
    ip: str = Field(description="IP address of the server.")
    filenames: list[str] = Field(description="Names of the files to queue for deletion.")

    @field_validator("filenames", mode="before")
    @classmethod
    def _one_name_is_a_list(cls, value: Any) -> Any:
        return as_list(value)


def _server(world: World, ip: str) -> Server:
    server = world.server(ip.strip())
    if server is None:
        known = ", ".join(s.ip for s in world.servers) or "none"
        raise ToolFailure(f"Unknown server '{ip}'. Known servers: {known}.")
    return server


def _describe(f: ServerFile) -> str:
    return f"- {f.name} | size: {f.size:,} bytes | last modified: {f.modified} | summary: {f.summary}"


def _existing_and_free(server: Server, filename: str, new_filename: str) -> ServerFile:
    # Copy and rename both need the source present and the new name unused.
    src = server.file(filename)
    if src is None:
        raise ToolFailure(f"No file named '{filename}' on {server.ip}.")
    check_name(new_filename)
    if server.file(new_filename) is not None:
        raise ToolFailure(f"A file named '{new_filename}' already exists on {server.ip}.")
    return src


def _list_server_ips(world: World, ledger: Ledger, call: Effect, args: _NoArgs) -> str:
    return "Servers:\n" + "\n".join(f"- {s.ip}" + (f" ({s.name})" if s.name else "") for s in world.servers)


def _list_server_files(world: World, ledger: Ledger, call: Effect, args: _IpArgs) -> str:
    server = _server(world, args.ip)
    if not server.files:
        return f"No files on {server.ip}."
    return f"Files on {server.ip}:\n" + "\n".join(_describe(f) for f in server.files)


def _search_server_file(world: World, ledger: Ledger, call: Effect, args: _IpFileArgs) -> str:
    server = _server(world, args.ip)
    needle = args.filename.lower()
    hits = [f for f in server.files if needle in f.name.lower()]
    if not hits:
        return f"No file matching '{args.filename}' on {server.ip}."
    return "\n".join(_describe(f) for f in hits)


def _copy_server_file(world: World, ledger: Ledger, call: Effect, args: _IpFileNewArgs) -> str:
    server = _server(world, args.ip)
    src = _existing_and_free(server, args.filename, args.new_filename)
    server.files.append(src.model_copy(update={"name": args.new_filename, "modified": world.today}))
    ledger.record_effect(
        call, "server_copy", args.new_filename, ip=server.ip, source=src.name, content_id=src.content_id
    )
    return f"Copied '{src.name}' to '{args.new_filename}' on {server.ip}."


def _rename_server_file(world: World, ledger: Ledger, call: Effect, args: _IpFileNewArgs) -> str:
    server = _server(world, args.ip)
    src = _existing_and_free(server, args.filename, args.new_filename)
    src.name = args.new_filename
    server.delete_queue = [args.new_filename if n == args.filename else n for n in server.delete_queue]
    ledger.record_effect(
        call, "server_rename", args.new_filename, ip=server.ip, source=args.filename, content_id=src.content_id
    )
    return f"Renamed '{args.filename}' to '{args.new_filename}' on {server.ip}."


def _transfer_server_files(world: World, ledger: Ledger, call: Effect, args: _TransferArgs) -> str:
    source, dest = _server(world, args.source_ip), _server(world, args.dest_ip)
    if source.ip == dest.ip:
        raise ToolFailure("source_ip and dest_ip are the same server.")
    if not args.filenames:
        raise ToolFailure("filenames must name at least one file.")
    lines: list[str] = []
    moved = 0
    for name in args.filenames:
        f = source.file(name)
        if f is None:
            lines.append(f"- {name}: not found on {source.ip}")
            continue
        if dest.file(name) is not None:
            lines.append(f"- {name}: a file with that name already exists on {dest.ip}")
            continue
        source.files.remove(f)
        source.delete_queue = [n for n in source.delete_queue if n != name]
        dest.files.append(f)
        moved += 1
        ledger.record_effect(
            call, "server_transfer", name, source_ip=source.ip, dest_ip=dest.ip, content_id=f.content_id
        )
        lines.append(f"- {name}: transferred to {dest.ip}")
    if moved == 0:
        raise ToolFailure("No file was transferred:\n" + "\n".join(lines))
    return f"Transferred {moved} of {len(args.filenames)} file(s):\n" + "\n".join(lines)


def _delete_server_file(world: World, ledger: Ledger, call: Effect, args: _IpFileArgs) -> str:
    server = _server(world, args.ip)
    f = server.file(args.filename)
    if f is None:
        raise ToolFailure(f"No file named '{args.filename}' on {server.ip}.")
    server.files.remove(f)
    server.delete_queue = [n for n in server.delete_queue if n != f.name]
    ledger.record_effect(call, "server_delete", f.name, ip=server.ip, content_id=f.content_id)
    return f"Deleted '{f.name}' from {server.ip}."


def _add_server_delete_queue(world: World, ledger: Ledger, call: Effect, args: _QueueArgs) -> str:
    server = _server(world, args.ip)
    if not args.filenames:
        raise ToolFailure("filenames must name at least one file.")
    lines: list[str] = []
    queued = 0
    for name in args.filenames:
        f = server.file(name)
        if f is None:
            lines.append(f"- {name}: not found on {server.ip}")
            continue
        if name not in server.delete_queue:
            server.delete_queue.append(name)
            ledger.record_effect(call, "server_queue_delete", name, ip=server.ip, content_id=f.content_id)
        queued += 1
        lines.append(f"- {name}: queued for deletion")
    if queued == 0:
        raise ToolFailure("No file was queued:\n" + "\n".join(lines))
    return f"Queued {queued} of {len(args.filenames)} file(s) on {server.ip}:\n" + "\n".join(lines)


SPECS: list[ToolSpec] = [
    ToolSpec(name="list_server_ips", description="List the known servers.", args=_NoArgs, run=_list_server_ips),
    ToolSpec(
        name="list_server_files",
        description="List the files on a server with name, size, last-modified date and summary.",
        args=_IpArgs,
        run=_list_server_files,
    ),
    ToolSpec(
        name="search_server_file_by_filename",
        description="Find files on a server whose name contains the given text.",
        args=_IpFileArgs,
        run=_search_server_file,
    ),
    ToolSpec(
        name="copy_server_file",
        description="Copy a file to a new name on the same server.",
        args=_IpFileNewArgs,
        run=_copy_server_file,
    ),
    ToolSpec(
        name="rename_server_file",
        description="Rename a file on a server.",
        args=_IpFileNewArgs,
        run=_rename_server_file,
    ),
    ToolSpec(
        name="transfer_server_files",
        description="Move files from one server to another.",
        args=_TransferArgs,
        run=_transfer_server_files,
    ),
    ToolSpec(
        name="delete_server_file",
        description="Delete a file from a server immediately.",
        args=_IpFileArgs,
        run=_delete_server_file,
    ),
    ToolSpec(
        name="add_server_delete_queue",
        description="Queue files on a server for deletion when the server is decommissioned.",
        args=_QueueArgs,
        run=_add_server_delete_queue,
    ),
]
