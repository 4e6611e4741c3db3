"""Pump operations (pipes-and-pumps.md §6): reset, update-last-seen, set-last-seen-to-end,
reset-tracking, set-tracking-to-start, start, start-rescan. Offset changes are logged as
`pump-offset-set`."""

from __future__ import annotations


def pump_op(hub, pipe, operation, **kw):
    pump = hub.pump(pipe.id)
    if operation == "start":
        return pump.run(keep_going=hub.keep_going)
    if operation == "start-rescan":
        return pump.run(full=True, keep_going=hub.keep_going)
    state = pump.load_state()
    old = state.get("since")
    if operation in ("reset", "update-last-seen"):
        value = kw.get("last_seen", "") if operation == "update-last-seen" else ""
        state["since"] = _parse_since(value)
        state["full"] = False
        if state["since"] is None:
            state.pop("deps", None)
    elif operation == "set-last-seen-to-end":
        src = hub._make_source(pipe)
        try:
            state["since"] = src.end_since() if hasattr(src, "end_since") else None
        finally:
            src.close()
    elif operation == "reset-tracking":
        tr = hub._tracker(pipe)
        state["deps"] = tr.ends() if tr else {}
    elif operation == "set-tracking-to-start":
        tr = hub._tracker(pipe)
        state["deps"] = {k: -1 for k in (tr.ends() if tr else {})}
    else:
        raise ValueError(f"unknown pump operation {operation!r}")
    pump.save_state(state)
    if operation in ("reset", "update-last-seen", "set-last-seen-to-end"):
        pump.log.event("pump-offset-set", None, is_reset=state["since"] is None,
                       pipe_offset=state["since"], original_pipe_offset=old)
        pump.log.close()
    return state


def _parse_since(value):
    if value in ("", None):
        return None
    if isinstance(value, str):
        import json
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
