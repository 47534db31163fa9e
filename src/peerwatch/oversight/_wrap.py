"""Wrap a plain Python tool function with the guard.

    guard = Guard(load_policy("policy.yaml"), AuditLog(SQLiteStore("audit.sqlite")), FileChannel("approvals"))

    @guarded(guard, actor="billing-agent")
    def delete_model(name: str) -> str:
        ...

    delete_model(name="m1")   # raises GuardDenied unless the policy (and, if asked, a human) allows it

The actor is fixed when the function is wrapped, by the orchestrator, not passed by the agent at call time.
"""

from __future__ import annotations

import functools
import inspect
import uuid
from collections.abc import Callable
from typing import Any, TypeVar, cast

from ._assignment import Evaluation, require_distinct_families
from ._guard import Guard, GuardResult

F = TypeVar("F", bound=Callable[..., Any])


class GuardDenied(PermissionError):
    """The guard did not allow the call."""

    def __init__(self, result: GuardResult) -> None:
        super().__init__(f"denied by peerwatch guard ({result.rule}): {result.reason}")
        self.result = result


def guarded(
    guard: Guard, actor: str, name: str | None = None, evaluation: Evaluation | None = None
) -> Callable[[F], F]:
    """Decorator: check every call of the function with the guard (by the function's name) before running it.

    `evaluation` says whom `actor` evaluates: wrapping fails at once (PolicyError, one line) when the policy refuses an
    evaluation by the subject's own model family, so such a tool never exists.

    The check and the call hold the actor's lock together (`Guard.run` / `Guard.arun`), so concurrent calls - threads
    or `asyncio.gather` on an async function - are decided one at a time, each after the previous one ran.
    """

    if evaluation is not None:
        require_distinct_families(guard.policy, evaluation)

    def wrap(fn: F) -> F:
        tool = name or fn.__name__
        sig = inspect.signature(fn)

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def ainner(*args: Any, **kwargs: Any) -> Any:
                bound = dict(sig.bind(*args, **kwargs).arguments)
                result, out = await guard.arun(
                    actor, tool, bound, f"py-{uuid.uuid4().hex[:12]}", lambda: fn(*args, **kwargs)
                )
                if not result.allowed:
                    raise GuardDenied(result)
                return out

            return cast(F, ainner)  # functools.wraps gives it fn's signature; the checker cannot see that

        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            bound = dict(sig.bind(*args, **kwargs).arguments)
            result, out = guard.run(actor, tool, bound, f"py-{uuid.uuid4().hex[:12]}", lambda: fn(*args, **kwargs))
            if not result.allowed:
                raise GuardDenied(result)
            return out

        return cast(F, inner)

    return wrap
