"""The closed set of check kinds: small pure functions ``(ctx, rule) -> hits``.

A rule file names a kind; nothing else is executable. This module holds the registry and
the layout, systems-JSON and hygiene kinds; ``checks_results`` holds the kinds that
compare claims with raw data.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from tinyperf.rules.context import Context, Hit
from tinyperf.rules.ruleset import Rule
from tinyperf.submissions.model import is_junk

Kind = Callable[[Context, Rule], Iterable[Hit]]
KINDS: dict[str, Kind] = {}


def kind(name: str) -> Callable[[Kind], Kind]:
    def register(fn: Kind) -> Kind:
        KINDS[name] = fn
        return fn
    return register


# -- layout ---------------------------------------------------------------------------------


@kind("top_level_divisions")
def top_level_divisions(ctx: Context, rule: Rule) -> Iterable[Hit]:
    if ctx.division is not None:
        return
    allowed = set(ctx.settings["divisions"]) | set(ctx.settings["ignored_top_level"])
    for name in ctx.tree.top_dirs:
        if name not in allowed:
            yield Hit(name, {"name": name})


@kind("submitter_has_results")
def submitter_has_results(ctx: Context, rule: Rule) -> Iterable[Hit]:
    for sub in ctx.submitters():
        if not sub.has_results:
            yield Hit(sub.rel, key=(sub.division, sub.name))


@kind("system_json_present")
def system_json_present(ctx: Context, rule: Rule) -> Iterable[Hit]:
    for sub in ctx.submitters():
        for system in sub.systems.values():
            if system.json is None:
                yield Hit(system.json_rel, {"system": system.name},
                          key=(sub.division, sub.name, system.name))


@kind("benchmark_name_valid")
def benchmark_name_valid(ctx: Context, rule: Rule) -> Iterable[Hit]:
    allowed = sorted(ctx.settings["benchmarks"]) + sorted(ctx.settings.get("aliases") or {})
    for _s, _y, bench, key in ctx.benchmarks(rule):
        if ctx.bench_setting(bench.name) is None:
            yield Hit(bench.rel, {"name": bench.name, "version": ctx.version,
                                  "allowed": ", ".join(allowed)}, key=key)


@kind("required_modes")
def required_modes(ctx: Context, rule: Rule) -> Iterable[Hit]:
    for _s, _y, bench, key in ctx.benchmarks(rule):
        setting = ctx.bench_setting(bench.name) or {}
        for mode in setting.get("required", []):
            if mode not in bench.modes:
                yield Hit(f"{bench.rel}/{mode}", {"mode": mode}, key=(*key, mode),
                          evidence=f"folders present: {sorted(bench.modes) or 'none'}")


@kind("runner_marker_agrees")
def runner_marker_agrees(ctx: Context, rule: Rule) -> Iterable[Hit]:
    for _s, _y, bench, key in ctx.benchmarks(rule):
        runners = {m: r.runner for m, r in bench.modes.items() if r.runner}
        content = set(runners.values())
        if len(content) > 1:
            yield Hit(bench.rel, {"detail": f"mode folders come from different runners: "
                                            f"{runners}"}, key=key)
        elif content == {"eembc"} and not bench.marker:
            yield Hit(bench.rel, {"detail": "EEMBC runner files but no EEMBC_RUNNER marker: "
                                            "the official checker applies the MLC file lists"},
                      evidence=f"runner by content: {runners}", key=key)
        elif content == {"mlc"} and bench.marker:
            yield Hit(bench.rel, {"detail": "EEMBC_RUNNER marker on MLCommons-runner files"},
                      key=key)


@kind("mode_file_list")
def mode_file_list(ctx: Context, rule: Rule) -> Iterable[Hit]:
    tolerated = set(ctx.settings["tolerated_files"])
    for _s, _y, bench, key in ctx.benchmarks(rule):
        for mode, run in bench.modes.items():
            runner = run.runner or ("eembc" if bench.marker else "mlc")
            table = "runner_energy_files" if mode == "energy" else "runner_files"
            need = set(ctx.settings[table][runner])
            have = set(run.files)
            if mode == "energy" and runner == "mlc":
                have -= {n for n in have if n.startswith("energy_inf_") and n.endswith(".png")}
                if bench.name == "sww" and "energy_inf_000.png" not in run.files:
                    # the official checker file-lists sww energy/ with the plot (SR 1.4)
                    yield Hit(run.rel, {"detail": "missing energy_inf_000.png (listed by the "
                                                  "official checker for sww energy/)"},
                              key=(*key, mode), severity=rule.params.get("extra_severity"))
            if mode == "energy" and bench.name != "sww":
                have -= set(ctx.settings["tolerated_energy_files"])
            missing, extra = sorted(need - have), sorted(have - need - tolerated)
            raw = [m for m in missing if m != "results.txt"]
            if "results.txt" in missing:
                yield Hit(run.rel, {"detail": f"missing results.txt ({runner} runner)"},
                          key=(*key, mode), evidence=f"files: {sorted(run.files)}")
            if raw:  # raw data absent: its claims become "not verifiable", not invalid
                yield Hit(run.rel, {"detail": f"missing raw data {raw} ({runner} runner)"},
                          key=(*key, mode), evidence=f"files: {sorted(run.files)}",
                          severity=rule.params.get("missing_raw_severity"))
            if extra:
                yield Hit(run.rel, {"detail": f"unexpected files {extra} ({runner} runner)"},
                          key=(*key, mode), severity=rule.params.get("extra_severity"))


@kind("unknown_mode_folders")
def unknown_mode_folders(ctx: Context, rule: Rule) -> Iterable[Hit]:
    hints = ctx.settings["misspelled_modes"]
    for _s, _y, bench, key in ctx.benchmarks(rule):
        for name in bench.other_dirs:
            hint = f" (did you mean {hints[name]}/?)" if name in hints else ""
            yield Hit(f"{bench.rel}/{name}", {"name": name, "hint": hint}, key=key)
        if bench.nested:  # checked here with rows of its own; the official checker skips it
            yield Hit(bench.rel, {"name": bench.label, "hint": " (a nested sub-model folder: "
                                  "checked here as a result of its own)"}, key=key,
                      severity=rule.params.get("nested_severity"))


@kind("requires_benchmark")
def requires_benchmark(ctx: Context, rule: Rule) -> Iterable[Hit]:
    want, need = rule.params["benchmark"], rule.params["requires"]
    for sub in ctx.submitters():
        for system in sub.systems.values():
            if want in system.benchmarks:
                other = system.benchmarks.get(need)
                if other is None or "performance" not in other.modes:
                    yield Hit(system.benchmarks[want].rel, {"benchmark": want, "requires": need},
                              key=(sub.division, sub.name, system.name, want))


@kind("runner_permitted")
def runner_permitted(ctx: Context, rule: Rule) -> Iterable[Hit]:
    never = set(rule.params.get("eembc_never", []))
    for _s, _y, bench, key in ctx.benchmarks(rule):
        eembc = any(r.runner == "eembc" for r in bench.modes.values()) or bench.marker
        if eembc and (not rule.params.get("eembc_allowed", True) or
                      ctx.canonical(bench.name) in never):
            yield Hit(bench.rel, {"benchmark": bench.name, "version": ctx.version}, key=key)


@kind("mode_present")
def mode_present(ctx: Context, rule: Rule) -> Iterable[Hit]:
    for _s, _y, bench, key in ctx.benchmarks(rule):
        if rule.params["mode"] not in bench.modes:
            yield Hit(bench.rel, key=key)


# -- systems JSON ---------------------------------------------------------------------------


def _systems(ctx: Context) -> Iterable[tuple[Any, Any, dict[str, Any] | None]]:
    for sub in ctx.submitters():
        for system in sub.systems.values():
            doc = system.json
            if doc is not None:
                value = doc.value if isinstance(doc.value, dict) else None
                yield sub, system, value


@kind("json_valid")
def json_valid(ctx: Context, rule: Rule) -> Iterable[Hit]:
    for sub, system, value in _systems(ctx):
        key, doc = (sub.division, sub.name, system.name), system.json
        if doc.error:
            yield Hit(system.json_rel, {"detail": f"not valid JSON: {doc.error}"}, key=key)
        elif value is None:
            yield Hit(system.json_rel, {"detail": "top level is not a JSON object"}, key=key)
        if doc.duplicates:
            yield Hit(system.json_rel, {"detail": f"duplicate keys (last wins): "
                                                  f"{sorted(set(doc.duplicates))}"},
                      key=key, severity=rule.params.get("duplicate_severity"))


@kind("json_field_in")
def json_field_in(ctx: Context, rule: Rule) -> Iterable[Hit]:
    field, allowed = rule.params["field"], ctx.settings[rule.params["setting"]]
    for sub, system, value in _systems(ctx):
        if value is None:
            continue
        raw = value.get(field)
        if not isinstance(raw, str) or raw.lower() not in allowed:
            yield Hit(system.json_rel, {"value": repr(raw), "allowed": allowed},
                      key=(sub.division, sub.name, system.name))


@kind("json_field_absent")
def json_field_absent(ctx: Context, rule: Rule) -> Iterable[Hit]:
    field = rule.params["field"]
    for sub, system, value in _systems(ctx):
        if value is not None and value.get(field) is not None:
            yield Hit(system.json_rel, {"field": field, "value": repr(value[field])},
                      key=(sub.division, sub.name, system.name))


@kind("json_template_keys")
def json_template_keys(ctx: Context, rule: Rule) -> Iterable[Hit]:
    for sub, system, value in _systems(ctx):
        if value is None:
            continue
        missing = [k for k in ctx.settings["template_keys"] if k not in value]
        if missing:
            yield Hit(system.json_rel, {"detail": f"missing template keys {missing}"})


@kind("json_field_matches_folder")
def json_field_matches_folder(ctx: Context, rule: Rule) -> Iterable[Hit]:
    field = rule.params["field"]
    for sub, system, value in _systems(ctx):
        folder = sub.division if rule.params["folder"] == "division" else sub.name
        raw = value.get(field) if value else None
        if isinstance(raw, str) and raw.strip().lower() != folder.lower():
            yield Hit(system.json_rel, {"field": field, "value": repr(raw), "folder": folder})


# -- hygiene --------------------------------------------------------------------------------


def _entry_flags(e: Any, name: str, limit: int) -> Iterator[str]:
    """The hygiene flags of walked entry ``e`` (named ``name``)."""
    if e.kind == "symlink":
        yield "symlink_dir" if e.link_to_dir else "symlink_file"
    if e.kind == "file" and e.size > limit:
        yield "oversize"
    if e.kind == "dir" and name.endswith("__pycache__"):
        yield "pycache"
    if name.startswith("."):
        yield "hidden"
    if " " in name:
        yield "space"
    if is_junk(name):
        yield "junk"
    if not name.isascii() and name != name.encode("utf-8", "surrogateescape").decode(
            "utf-8", "replace"):
        yield "bad_name"


_WALK_FLAGS = ("too_deep", "too_many", "unreadable")  # reported together as "walk"


def _tree_flags(ctx: Context) -> dict[str, list[tuple[str, str]]]:
    """flag -> (rel, detail) of every flagged entry and walk problem of the tree.

    Found in one pass and kept in ``ctx.memo``: the hygiene rules ask once per flag and
    division (~24 passes over a round's entries otherwise).
    """
    memo = ctx.memo.get("tree_flags")
    if memo is not None:
        return memo  # type: ignore[no-any-return]
    limit = ctx.settings["max_file_bytes"]
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    parents = set()
    for e in ctx.tree.entries:
        head, _, name = e.rel.rpartition("/")
        if head:
            parents.add(head)
        for flag in _entry_flags(e, name, limit):
            detail = (f"{e.link_target}" + (" (points outside the tree)" if e.link_escapes
                                            else "") if e.kind == "symlink" else
                      f"{e.size} bytes, over {limit}" if flag == "oversize" else "")
            out[flag].append((e.rel, detail))
    out["empty_dir"] = [(e.rel, "") for e in ctx.tree.entries
                        if e.kind == "dir" and e.rel not in parents]
    for pflag, rel, detail in ctx.tree.problems:
        out[pflag].append((rel, f"{rel}: {detail}" if pflag == "archive_rejected" else detail))
        if pflag in _WALK_FLAGS:
            out["walk"].append((rel, detail))
    ctx.memo["tree_flags"] = out
    return out


@kind("hygiene_flag")
def hygiene_flag(ctx: Context, rule: Rule) -> Iterable[Hit]:
    for rel, detail in _tree_flags(ctx).get(rule.params["flag"], ()):
        parts = rel.split("/")
        div = parts[0] if parts[0] in ctx.settings["divisions"] else None
        if div != ctx.division:
            continue
        key = (div, parts[1]) if div and len(parts) > 1 else ()
        yield Hit(rel, {"detail": detail}, key=key)


def _register_results() -> None:
    # imported for their effect: they register the result kinds
    from tinyperf.rules import checks_results, checks_sww  # noqa: F401


_register_results()
