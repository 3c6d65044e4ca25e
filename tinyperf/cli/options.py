"""One spelling per concept: the option builders every ``tinyperf`` subcommand shares.

Concept table. Old spellings still work as hidden aliases that print one line
``tinyperf: note: OLD is deprecated, use NEW`` on stderr.

======================  =======================  ==============================================
concept                 spelling                 old spellings (deprecated, hidden from help)
======================  =======================  ==============================================
benchmark model id      ``--model-id ID``        positional ``data prepare MODEL``, ``models
(kws01, ad01, ...)                               build MODEL_ID``, ``robustness MODEL_ID``;
                                                 ``--model ID`` on ``firmware build|run|info``,
                                                 ``data demo`` and ``history``
model file (an option)  ``--tflite PATH``        ``robustness --model PATH``
model file the command  positional               (``models info|evaluate|verify``, ``package
works on                ``MODEL.tflite``         add-model``: unchanged)
output FILE             ``-o/--output FILE``     (``check``, ``report``, ``package archive``)
output FOLDER           ``--output-dir DIR``     ``robustness -o``, ``data prepare|demo --out``,
                        (never ``-o``)           ``models build --out``, ``energy import
                                                 --output`` (it was a folder)
official .bin sets      ``--dataset-path DIR``   (``run``, ``demo``, ``models evaluate``)
raw audio (WAVs,        ``--raw-path DIR``       ``data prepare --raw``, ``models build
downloads)                                       --data-dir``, ``robustness --dataset-path``
MLPerf Tiny round       ``--round vX.Y``         ``--version`` of ``check`` and ``package init``
tinyperf's own version  ``tinyperf --version``   (new)
interface-board kind    ``--board-kind KIND``    ``--board`` of ``run`` and ``sim``
board name (history)    ``--board NAME``         (``history``, ``history add``: unchanged)
rule ids to waive       ``--waive RULE-ID``,     ``--waive A B`` (several ids after one option)
                        once per id              is refused: it swallowed ``check``'s PATH
======================  =======================  ==============================================

``tinyperf run`` also takes the MLCommons runner's own spellings, so its users can paste a
runner command line: ``-s/--dataset_path``, ``-m a|p|e`` (or ``--mode=p``), ``-d/--device_list
devices.yaml``, ``-y/--device_yaml YAML``, ``-t/--test_script tests.yaml``. These are
compatibility spellings, not deprecated: they print no note.

Every parser's ``--help`` ends with an ``example:`` section (:func:`add_parser`).

This module imports only the standard library, so building the whole parser stays cheap.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

#: The MLPerf Tiny rounds (rule sets) tinyperf knows; equals
#: ``tinyperf.rules.ruleset.VERSIONS`` (a test keeps them equal).
ROUNDS = ("v1.0", "v1.1", "v1.2", "v1.3", "v1.4")
#: The round ``check`` assumes when the path names none.
DEFAULT_ROUND = "v1.4"
#: The benchmarks with a reference pipeline in tinyperf.
BENCHMARK_MODELS = ("kws01", "ad01")


def note(message: str) -> None:
    """One ``tinyperf: note: ...`` line on stderr."""
    print(f"tinyperf: note: {message}", file=sys.stderr)


def deprecation_note(old: str, new: str) -> None:
    note(f"{old} is deprecated, use {new}")


# -- parsers with examples ---------------------------------------------------------------------


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions are filled paragraph by paragraph; the ``example:`` epilog is kept as
    written (one command per line)."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("example:"):
            return super()._fill_text(text, width, indent)
        paragraphs = [" ".join(part.split()) for part in text.split("\n\n") if part.strip()]
        return "\n\n".join(argparse.HelpFormatter._fill_text(self, part, width, indent)
                             for part in paragraphs)


def examples(*lines: str) -> str:
    """An ``example:`` epilog: one command per line."""
    return "example:\n" + "".join(f"  {line}\n" for line in lines)


def add_parser(subparsers: Any, name: str, *, example: Sequence[str],
               **kwargs: Any) -> argparse.ArgumentParser:
    """``subparsers.add_parser(name, **kwargs)`` with an ``example:`` epilog, laid out as
    written; the description defaults to the one-line ``help``."""
    summary = kwargs.get("help") or ""
    kwargs.setdefault("description", summary[:1].upper() + summary[1:] + ".")
    return subparsers.add_parser(name, epilog=examples(*example),
                                 formatter_class=HelpFormatter, **kwargs)


# -- aliases ----------------------------------------------------------------------------------


_ALIAS_CLASSES: dict[type, type] = {}


def _aliased(cls: type) -> type:
    """A subclass of action class ``cls`` that notes deprecated spellings when they are used."""
    if cls not in _ALIAS_CLASSES:
        def __call__(self: Any, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                     values: Any, option_string: str | None = None) -> None:
            if option_string in self.deprecated_strings:
                deprecation_note(option_string, self.option_strings[-1])
            cls.__call__(self, parser, namespace, values, option_string)

        _ALIAS_CLASSES[cls] = type(f"Aliased{cls.__name__}", (cls,), {"__call__": __call__})
    return _ALIAS_CLASSES[cls]


def add_option(parser: Any, *flags: str, deprecated: Iterable[str] = (),
               compat: Iterable[str] = (), **kwargs: Any) -> argparse.Action:
    """``parser.add_argument(*flags, **kwargs)`` plus hidden spellings of the same option.

    ``deprecated`` spellings work and print ``tinyperf: note: OLD is deprecated, use NEW``;
    ``compat`` spellings (the MLCommons runner's) work silently. Neither shows in ``--help``.
    They are the same argparse action as the new spelling, so ``required=True`` is met by
    either, and errors name the new spelling.
    """
    deprecated, compat = tuple(deprecated), tuple(compat)
    if "dest" not in kwargs:  # the new spelling names the attribute, whatever comes after it
        long = next((f for f in flags if f.startswith("--")), flags[0])
        kwargs["dest"] = long.lstrip("-").replace("-", "_")
    action = parser.add_argument(*flags, *deprecated, *compat, **kwargs)
    hidden = set(deprecated) | set(compat)
    action.option_strings = [s for s in action.option_strings if s not in hidden]
    if deprecated:
        action.__class__ = _aliased(type(action))
        action.deprecated_strings = frozenset(deprecated)  # type: ignore[attr-defined]
    return action


class _DeprecatedPositional(argparse.Action):
    """A hidden optional positional kept for old command lines; notes ``use FLAG``."""

    def __init__(self, *args: Any, new_flag: str, valid: Sequence[str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.new_flag, self.valid = new_flag, valid

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        del option_string  # a positional has none
        if values is None or values == argparse.SUPPRESS:
            return
        if self.valid is not None and values not in self.valid:
            parser.error(f"argument {self.new_flag}: invalid choice: {values!r} "
                         f"(choose from {', '.join(map(repr, self.valid))})")
        deprecation_note(f"a positional {values}", f"{self.new_flag} {values}")
        setattr(namespace, self.dest, values)


def deprecated_positional(parser: Any, dest: str, new_flag: str,
                          choices: Sequence[str] | None = None) -> argparse.Action:
    """An old positional spelling of option ``new_flag`` (same ``dest``), hidden from help.

    Argparse cannot require "the option or the positional", so the option is not
    ``required``; the handler calls :func:`require`.
    """
    return parser.add_argument(dest, nargs="?", default=argparse.SUPPRESS, help=argparse.SUPPRESS,
                               action=_DeprecatedPositional, new_flag=new_flag, valid=choices)


def require(args: argparse.Namespace, dest: str, flag: str) -> Any:
    """The value of a required option that argparse could not enforce (see above)."""
    value = getattr(args, dest, None)
    if value is None:
        from tinyperf.formats.errors import ConfigError

        raise ConfigError(f"{flag} is required")
    return value


# -- the shared concepts ----------------------------------------------------------------------
# Each builder takes add_argument's keyword arguments (help=, default=, required=, ...).


def add_model_id(parser: Any, *, choices: Sequence[str] | None = None,
                 deprecated: Iterable[str] = (), positional: bool = False,
                 **kwargs: Any) -> argparse.Action:
    """``--model-id ID``: a benchmark model id (kws01, ad01, ...).

    ``positional=True`` keeps an old positional model id working (deprecated); a
    ``required`` option is then checked by the handler (:func:`require`), not by argparse.
    """
    text = kwargs.pop("help", None) or "benchmark model id"
    if choices:
        text += f" ({', '.join(choices)})"
    if kwargs.get("default") is not None:
        text += f"; default {kwargs['default']}"
    if positional and kwargs.get("required"):
        kwargs["required"] = False
        text += " (required)"
    action = add_option(parser, "--model-id", deprecated=deprecated, metavar="ID",
                        choices=choices, help=text, **kwargs)
    if positional:
        deprecated_positional(parser, "model_id", "--model-id", choices)
    return action


def add_tflite(parser: Any, *, deprecated: Iterable[str] = (), **kwargs: Any) -> argparse.Action:
    """``--tflite PATH``: a model file, when it is an option."""
    kwargs.setdefault("help", "a .tflite model file instead of the reference")
    return add_option(parser, "--tflite", deprecated=deprecated, type=Path, metavar="PATH",
                      **kwargs)


def add_output_file(parser: Any, **kwargs: Any) -> argparse.Action:
    """``-o/--output FILE``: an output file (never a folder)."""
    kwargs.setdefault("help", "write here (a file)")
    return add_option(parser, "-o", "--output", type=Path, metavar="FILE", **kwargs)


def add_output_dir(parser: Any, *, deprecated: Iterable[str] = (),
                   **kwargs: Any) -> argparse.Action:
    """``--output-dir DIR``: an output folder (never ``-o``)."""
    kwargs.setdefault("help", "output folder")
    return add_option(parser, "--output-dir", deprecated=deprecated, type=Path, metavar="DIR",
                      **kwargs)


def add_dataset_path(parser: Any, *flags: str, compat: Iterable[str] = (),
                     **kwargs: Any) -> argparse.Action:
    """``--dataset-path DIR``: official ``.bin`` input sets (``<model>/y_labels.csv``)."""
    kwargs.setdefault("help", "folder with <model>/y_labels.csv and the .bin inputs")
    return add_option(parser, *flags, "--dataset-path", compat=compat, type=Path, metavar="DIR",
                      **kwargs)


def add_raw_path(parser: Any, *, deprecated: Iterable[str] = (),
                 **kwargs: Any) -> argparse.Action:
    """``--raw-path DIR``: raw audio (WAV downloads), not ``.bin`` sets."""
    return add_option(parser, "--raw-path", deprecated=deprecated, type=Path, metavar="DIR",
                      **kwargs)


def add_round(parser: Any, **kwargs: Any) -> argparse.Action:
    """``--round vX.Y``: the MLPerf Tiny round (old spelling ``--version``)."""
    kwargs["help"] = f"{kwargs.get('help', 'MLPerf Tiny round')}; one of {', '.join(ROUNDS)}"
    return add_option(parser, "--round", deprecated=("--version",), choices=ROUNDS,
                      metavar="vX.Y", **kwargs)


def add_board_kind(parser: Any, **kwargs: Any) -> argparse.Action:
    """``--board-kind KIND``: which interface board (old spelling ``--board``).

    Stored as ``args.board`` (the energy runner reads that name).
    """
    return add_option(parser, "--board-kind", deprecated=("--board",), dest="board",
                      metavar="KIND", **kwargs)


def add_waive(parser: Any, **kwargs: Any) -> argparse.Action:
    """``--waive RULE-ID``: one id per use, so it never swallows a positional."""
    kwargs.setdefault("help", "a rule id whose findings do not invalidate results (repeat "
                              "the option for more ids: --waive A --waive B)")
    return parser.add_argument("--waive", action="append", default=[], metavar="RULE-ID",
                               **kwargs)


def add_reference_dir(parser: Any, env: str = "TINYPERF_REFERENCE_DIR") -> argparse.Action:
    """``--reference-dir DIR``: the folder with ``<model>/y_labels*.csv``."""
    return parser.add_argument("--reference-dir", type=Path, metavar="DIR",
                               help=f"folder with <model>/y_labels*.csv (default: ${env})")


def count_arg(flag: str, minimum: int) -> Any:
    """An argparse type: a whole number >= ``minimum`` (a usage error otherwise)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} takes a whole number, got {text!r}") \
                from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{flag} must be at least {minimum}, got {value}")
        return value
    return parse
