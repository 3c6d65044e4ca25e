"""Run by the labgrid tool venv's Python: one coordinator request, answered as JSON on stdout.

labgrid pins ``pyserial-labgrid``, a fork that installs the same ``serial`` module as
pyserial, so it lives in its own venv (``make farm-venv``) and tinyperf talks to it through
this script (:mod:`tinyperf.farm.coordinator` starts it). It imports only the standard
library and labgrid, never tinyperf.

    python labgrid_bridge.py --coordinator HOST:PORT places
    python labgrid_bridge.py --coordinator HOST:PORT acquire PLACE [--wait S]
    python labgrid_bridge.py --coordinator HOST:PORT release PLACE

Exit codes: 0 answered, 3 labgrid refused (the message is in ``{"error": ...}``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from typing import Any


def _prune(session: Any) -> None:
    """Drop the entries labgrid keeps for deleted resources (empty data: no ``cls``), which
    make its own place matching raise ``KeyError`` while an exporter goes away."""
    for groups in session.resources.values():
        for group in groups.values():
            for name in [n for n, r in group.items() if "cls" not in r.data]:
                del group[name]


def _resources(session: Any, place: Any) -> list[dict[str, Any]]:
    """Every resource the place's matches name, with where to reach it."""
    found = []
    for exporter, groups in sorted(session.resources.items()):
        for group_name, group in sorted(groups.items()):
            for resource_name, resource in sorted(group.items()):
                path = (exporter, group_name, resource.cls, resource_name)
                match = place.getmatch(path)
                if match is None:
                    continue
                params = resource.params
                found.append({
                    "name": match.rename or resource_name, "cls": resource.cls,
                    "exporter": exporter, "group": group_name, "avail": bool(resource.avail),
                    "acquired": resource.acquired, "host": params.get("host"),
                    "port": params.get("port"), "speed": params.get("speed"),
                })
    return found


def _place(session: Any, place: Any) -> dict[str, Any]:
    return {"name": place.name, "tags": dict(place.tags), "comment": place.comment,
            "acquired": place.acquired, "resources": _resources(session, place)}


def _refresh(session: Any) -> None:
    session.loop.run_until_complete(session.sync_with_coordinator())
    _prune(session)


def _acquire(session: Any, name: str, wait_s: float) -> dict[str, Any]:
    """Acquire, then wait until the exporters have started ser2net (ports known)."""
    from labgrid.remote.client import Error

    _prune(session)
    place = session.get_place(name)
    if place.acquired and place.acquired != f"{session.gethostname()}/{session.getuser()}":
        raise Error(f"place {name} is held by {place.acquired}")
    if not place.acquired:
        session.loop.run_until_complete(session._acquire_place(name))
    deadline = time.monotonic() + wait_s
    while True:
        _refresh(session)
        info = _place(session, session.places[name])
        serial = [r for r in info["resources"] if r["cls"] == "NetworkSerialPort"]
        if serial and all(r["avail"] and r["port"] for r in serial):
            return info
        if time.monotonic() > deadline:
            return info  # the caller reports what is missing
        time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--coordinator", required=True, metavar="HOST:PORT")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("places")
    acquire = sub.add_parser("acquire")
    acquire.add_argument("place")
    acquire.add_argument("--wait", type=float, default=10.0)
    release = sub.add_parser("release")
    release.add_argument("place")
    args = parser.parse_args(argv)
    out = sys.stdout
    # labgrid's client prints progress ("acquired place X") to stdout: keep ours pure JSON
    with contextlib.redirect_stdout(sys.stderr):
        code, answer = _answer(args)
    json.dump(answer, out)
    return code


def _answer(args: argparse.Namespace) -> tuple[int, Any]:
    from labgrid.remote.client import Error, start_session

    argv_ns = argparse.Namespace(allow_unmatched=False, kick=False, place=None)
    try:
        session = start_session(args.coordinator, extra={"args": argv_ns})
    except Exception as exc:  # labgrid raises bare grpc/OS errors when it cannot connect
        return 3, {"error": f"cannot reach the coordinator {args.coordinator}: {exc}"}
    try:
        _prune(session)
        if args.command != "places" and args.place not in session.places:
            raise Error(f"no place named {args.place!r}")  # labgrid matches substrings
        if args.command == "places":
            answer: Any = [_place(session, p) for _, p in sorted(session.places.items())]
        elif args.command == "acquire":
            answer = _acquire(session, args.place, args.wait)
        else:
            place = session.get_place(args.place)
            if place.acquired:
                session.loop.run_until_complete(session._release_place(args.place))
            answer = {"released": args.place}
    except Error as exc:
        return 3, {"error": str(exc)}
    finally:
        session.loop.run_until_complete(session.stop())
        session.loop.run_until_complete(session.close())
    return 0, answer


if __name__ == "__main__":
    asyncio.set_event_loop(asyncio.new_event_loop())
    sys.exit(main())
