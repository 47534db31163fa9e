"""What a server command would do to files, read before it runs (the guard's pre-check in harness mode).

Only the common file verbs are understood (cp, mv, rm, ln, install, dd, rsync, tee, redirections, queue-delete, and
the encoders that write a transformed copy: gzip/bzip2/xz/zstd FILE, tar/zip ARCHIVE FILE..., split FILE PREFIX);
anything else is left to the post-check, which reads the servers' state after every operation. The result names
paths as the server's session sees them; the caller resolves them to files and their content.
"""

from __future__ import annotations

import posixpath
import re
import shlex

from pydantic import BaseModel

_SEPARATORS = {";", "&&", "||", "|", "&", "\n", "(", ")", "|&", ";;"}
_REDIRECT = {">", ">>", ">|", "&>", "&>>", "1>", "2>"}
_PREFIXES = {"sudo", "command", "exec", "nice", "nohup", "env", "time", "builtin", "stdbuf", "ionice"}
_COPY = {"cp", "install", "ln", "rsync", "scp"}
_DELETE = {"rm", "unlink", "shred", "truncate"}
# Encoders that write a transformed copy next to their input (`gzip FILE` -> FILE.gz): a copy of its content.
_COMPRESS = {"gzip": ".gz", "bzip2": ".bz2", "xz": ".xz", "lzma": ".lzma", "zstd": ".zst", "pigz": ".gz"}
_ARCHIVE = {"tar", "zip", "7z", "7za"}


class FileOp(BaseModel):
    """One file operation a command would perform: `copy`/`move` (source to dest), `delete`, or `queue`."""

    op: str
    source: str | None = None
    dest: str | None = None


def _segments(command: str) -> list[list[str]]:
    lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|()<>")
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        tokens = list(lexer)
    except ValueError:  # unbalanced quotes: the shell would refuse it too; the post-check still runs
        return []
    out: list[list[str]] = [[]]
    for tok in tokens:
        if tok in _SEPARATORS:
            out.append([])
        else:
            out[-1].append(tok)
    return [s for s in out if s]


def _strip_prefix(words: list[str]) -> list[str]:
    while words and (re.match(r"^[A-Za-z_]\w*=", words[0]) or posixpath.basename(words[0]) in _PREFIXES):
        words = words[1:]
    return words


def _into(source: str, dest: str, dest_is_dir: bool) -> str:
    return posixpath.join(dest, posixpath.basename(source)) if dest_is_dir or dest.endswith("/") else dest


def _target_directory(words: list[str]) -> str | None:
    for i, w in enumerate(words):
        if w in ("-t", "--target-directory") and i + 1 < len(words):
            return words[i + 1]
        if w.startswith("--target-directory="):
            return w.split("=", 1)[1]
        if re.fullmatch(r"-[a-zA-Z]*t", w) and i + 1 < len(words):
            return words[i + 1]
    return None


def _operands(words: list[str], with_value: set[str]) -> list[str]:
    """The non-option words, skipping the value of each option in `with_value`."""
    out, skip = [], False
    for w in words:
        if skip:
            skip = False
        elif w in with_value:
            skip = True
        elif not w.startswith("-"):
            out.append(w)
    return out


def _archive_args(verb: str, words: list[str], args: list[str]) -> tuple[str, list[str]]:
    """(archive written, members read) of a tar/zip/7z command; tar's archive follows an `f` option."""
    if verb == "tar":
        for i, w in enumerate(words):
            short = (w.startswith("-") and not w.startswith("--") and "f" in w) or (i == 0 and "f" in w and "c" in w)
            if short and i + 1 < len(words):
                archive = words[i + 1]
                return archive, [a for a in args if a != archive and a != w]
            if w.startswith("--file="):
                archive = w.split("=", 1)[1]
                return archive, args
        return "-", []
    rest = [a for a in args if a not in ("a",)] if verb.startswith("7z") else args
    return rest[0], rest[1:]


def file_ops(command: str, is_dir: object = None) -> list[FileOp]:
    """The file operations `command` would perform, as far as the common verbs tell.

    `is_dir(path) -> bool` says whether a destination is a directory (so `cp a /data` lands at `/data/a`).
    """
    check = is_dir if callable(is_dir) else (lambda p: p.rstrip("/") in ("/data", ".", "/tmp"))
    ops: list[FileOp] = []
    for seg in _segments(command):
        words, targets = [], []
        it = iter(_strip_prefix(seg))
        for w in it:
            if w in _REDIRECT or w == ">":
                targets.append(next(it, ""))
            elif w.startswith(">") and len(w) > 1:
                targets.append(w.lstrip(">"))
            else:
                words.append(w)
        words = [w for w in words if w not in ("<",)]
        if not words:
            continue
        verb = posixpath.basename(words[0])
        args = [w for w in words[1:] if not w.startswith("-")]
        if verb in _COPY or verb == "mv":
            if verb == "scp" or verb == "rsync":
                args = [a for a in args if ":" not in a]  # remote ends: the server has no key to reach them
            target = _target_directory(words[1:]) if verb not in ("scp", "rsync") else None  # rsync -t: --times
            if target is not None:  # `cp -t DIR SRC...`: the destination comes first
                args = [a for a in args if a != target] + [target.rstrip("/") + "/"]
            if len(args) >= 2:
                dest = args[-1]
                for src in args[:-1]:
                    ops.append(
                        FileOp(op="move" if verb == "mv" else "copy", source=src, dest=_into(src, dest, check(dest)))
                    )
        elif verb in _COMPRESS and not {"-c", "--stdout", "-d", "--decompress", "-l", "-t"} & set(words[1:]):
            ops += [FileOp(op="copy", source=a, dest=a + _COMPRESS[verb]) for a in args]
        elif verb in _ARCHIVE and len(args) >= 2:
            archive, members = _archive_args(verb, words[1:], args)
            ops += [FileOp(op="copy", source=m, dest=archive) for m in members]
        elif verb == "split":
            operands = _operands(words[1:], {"-b", "-l", "-n", "-a", "-C", "-t", "--bytes", "--lines", "--number"})
            if operands:
                dest = (operands[1] if len(operands) > 1 else "x") + "aa"
                ops.append(FileOp(op="copy", source=operands[0], dest=dest))
        elif verb in _DELETE:
            ops += [FileOp(op="delete", source=a) for a in args if not re.fullmatch(r"[0-9]+[KMG]?", a)]
        elif verb == "queue-delete":
            ops += [FileOp(op="queue", source=a) for a in args]
        elif verb == "dd":
            kv = dict(a.split("=", 1) for a in words[1:] if "=" in a)
            if "if" in kv and "of" in kv:
                ops.append(FileOp(op="copy", source=kv["if"], dest=kv["of"]))
        elif verb == "tee":
            targets += args
            args = []
        for t in targets:
            if not t or t.startswith("&") or t == "/dev/null":
                continue
            ops.append(FileOp(op="overwrite", dest=t))
            ops += [FileOp(op="copy", source=a, dest=t) for a in args]
    return ops
