"""Learning a provider's requests-per-minute limit from its 429s, for a run without `--rpm`.

Until the provider answers 429 for a model nothing is paced and nothing is counted: the pacing hook stays disabled and
the only thing installed is a wrapper around the provider's retry classifier, which runs on failed calls alone
(`_pace.watch_rate_limits`). The first 429 starts pacing that model, from then on through the same timetable as `--rpm`
(shared by the worker processes of the machine), at a rate learned as follows:

- a stated limit wins: OpenAI-style `x-ratelimit-limit-requests` (per minute) is kept to like `--rpm`;
- otherwise the pacer starts at one call per Retry-After (1/s without one), holds every call until the 429's
  Retry-After, and measures: in each window of `WINDOW` seconds it counts the calls admitted and the 429s. While calls
  draw 429s the provider admits exactly its limit, so a window with 429s gives the limit directly (the rate drops to it,
  under `HEADROOM`);
- AIMD on top: a 429 the pacer did not prevent cuts the rate (`CUT`, once per `COOLDOWN`) and remembers the rate that
  drew it for `BAD_MEMORY` seconds - growth stays under it (`BAD_MARGIN`) meanwhile; until the pacer's own rate first
  draws a 429 the rate doubles each clean window (slow start: a start below the limit is left fast), after that clean
  calls grow it additively (`GROWTH` of that rate per call), and never past 4x what the last window admitted (a rate
  nobody uses is no evidence the provider takes it).

A process's 429s in its first `JOIN_GRACE` seconds of pacing answer calls it sent unpaced, so they hold the timetable
and count in the window but cut nothing.
"""

from __future__ import annotations

import math

from ._timetable import Timetable

HEADROOM = 0.97  # pace a little under the limit: the provider's clock and ours do not tick together
WINDOW = 3.0  # seconds over which the admitted rate is measured
QUICK_WINDOW = 1.0  # or, once 3 calls drew 429s in it, this many
COOLDOWN = 3.0  # seconds between two cuts (a window: its measurement sets the rate better than further cuts)
CUT = 0.8  # multiplicative decrease on a 429
BAD_MEMORY = 30.0  # seconds a rate that drew 429s caps the growth
GROWTH = 0.003  # then + this x the rate that drew 429s, per clean call
CLOSE_IN = 0.02  # or this share of the distance to it, if larger
BAD_MARGIN = 0.98  # growth stays this far under a rate that drew 429s
FLOOR = 1 / 60  # never below one call a minute
JOIN_GRACE = 1.0  # seconds after a process starts pacing when its 429s answer calls it sent unpaced
MAX_HOLD = 60.0  # a Retry-After longer than this holds the timetable no longer (a provider's daily quota, say)


def ceiling(table: Timetable, now: float) -> float:
    """The highest rate the learning pacer may pace to now (calls/s)."""
    top = table.limit * HEADROOM if table.limit else math.inf
    if table.bad and now < table.bad_until:
        top = min(top, table.bad * BAD_MARGIN)
    if table.seen:
        top = min(top, table.seen * 4 + FLOOR)
    return top


def start(table: Timetable, now: float, retry_after: float | None, limit: float | None) -> None:
    """The first 429 of a model on this machine: pace from the stated limit, else from the Retry-After."""
    if limit:
        table.limit = limit
        table.rate = limit * HEADROOM
    else:
        # A token bucket's Retry-After is the time to its next token, at most one interval of its rate, so its
        # inverse is at or above the limit: a start too high costs one window (the measurement cuts it), one too
        # low (a provider that says nothing, or a window-based limit's long wait) costs the slow start's doublings.
        # (The rate admitted before the first 429 says little: it is the first second's burst.)
        table.rate = max(FLOOR, 1.0 / retry_after if retry_after else 1.0)
    table.window_start = now
    hold(table, now, retry_after)


def hold(table: Timetable, now: float, retry_after: float | None) -> None:
    """No call before the provider said it would take one (the 429's Retry-After)."""
    if retry_after and retry_after > 0:
        table.slot = max(table.slot, now + min(retry_after, MAX_HOLD))


def rate_limited(
    table: Timetable, now: float, retry_after: float | None, limit: float | None, counted: bool
) -> None:
    """A 429 while pacing: hold, count it in the window, and cut (once per cooldown) unless not `counted`."""
    if limit:
        table.limit = limit
    hold(table, now, retry_after)
    table.window_429 += 1
    _close_window(table, now)
    if counted and now >= table.cooldown_until:
        # The rate that drew it: a bucket remembers (its burst), so a 429 just after a faster spell answers that
        # spell - what the provider admitted lately is the floor of it, or one overshoot ratchets the rate down.
        drew = max(table.rate, table.seen)
        table.bad = min(table.bad, drew) if table.bad and now < table.bad_until else drew
        table.bad_until = now + BAD_MEMORY
        # Cut to what the provider admitted lately if that is known (while calls draw 429s it is the limit), by
        # CUT at most.
        table.rate = max(FLOOR, table.rate * CUT, min(table.rate, table.seen * HEADROOM))
        table.cooldown_until = now + COOLDOWN
        table.cuts += 1
    table.rate = min(table.rate, ceiling(table, now))


def succeeded(table: Timetable, now: float) -> None:
    """A clean call while pacing: count it, and grow (not during a cooldown, never past the ceiling)."""
    table.window_ok += 1
    _close_window(table, now)
    if now < table.cooldown_until:
        return
    if table.bad and now < table.bad_until:
        # Additive, and faster while far under the rate that drew 429s (a cut after a stall undershoots).
        grown = table.rate + max(table.bad * GROWTH, (table.bad * BAD_MARGIN - table.rate) * CLOSE_IN)
    elif table.cuts:
        grown = table.rate * (1 + GROWTH)  # the memory expired: probe upwards again, slowly
    else:
        return  # slow start grows per window (`_close_window`): per call, a low start would stay low for long
    table.rate = max(table.rate, min(grown, ceiling(table, now)))


def _close_window(table: Timetable, now: float) -> None:
    span = now - table.window_start
    if span < WINDOW and not (span >= QUICK_WINDOW and table.window_429 >= 3):  # many 429s: measure sooner
        return
    table.seen = table.window_ok / span
    if table.window_429 >= 2 and table.window_ok:
        # Calls drew 429s through the window, so the provider admitted its limit: pace just under that. (One 429
        # alone is a collision, not a measurement.)
        table.rate = max(FLOOR, min(table.rate, table.seen * HEADROOM))
    elif not table.window_429 and not table.cuts:
        table.rate = max(table.rate, min(table.rate * 2, ceiling(table, now)))  # slow start: double per window
    table.window_start, table.window_ok, table.window_429 = now, 0, 0


def stated_limit(ex: BaseException) -> float | None:
    """The requests-per-minute limit a 429 states in OpenAI-style headers (`x-ratelimit-limit-requests`), in
    calls/s; None when it states none (or nonsense)."""
    headers = getattr(getattr(ex, "response", None), "headers", None)
    if headers is None:
        return None
    try:
        value = float(headers.get("x-ratelimit-limit-requests") or "nan")
    except (TypeError, ValueError, AttributeError):
        return None
    return value / 60.0 if math.isfinite(value) and value > 0 else None


def rate_limit_signal(ex: BaseException, decision: object) -> tuple[bool, float | None]:
    """Whether a failed call was the provider's rate limit (a 429, or the provider's classifier saying so), and the
    seconds its Retry-After asked for (None: not said)."""
    kind = getattr(decision, "kind", None)
    status = getattr(ex, "status_code", None) or getattr(getattr(ex, "response", None), "status_code", None)
    limited = kind == "rate_limit" or status == 429
    wait = getattr(decision, "retry_after", None)
    return limited, float(wait) if isinstance(wait, int | float) and math.isfinite(wait) and wait > 0 else None

