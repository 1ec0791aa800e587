"""The Typer application and its error handling: one ``Error:`` line, non-zero exit."""

from __future__ import annotations

import os
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from segmint.cli.handoff import HandOff, hand_off
from segmint.cli.output import print_error
from segmint.errors import SegmintError


class SegmintGroup(TyperGroup):
    """Turns segmint errors and usage errors into ``Error: ...`` and an exit status.

    A segmint error or an unexpected one exits with 1, a usage error with 2. ``--debug`` (or
    ``SEGMINT_DEBUG=1``) shows the traceback instead.
    """

    #: Set by ``--debug`` for the current invocation (see :func:`segmint.cli.main`).
    debug: bool = False

    def main(
        self,
        args: Any = None,
        prog_name: Any = None,
        complete_var: Any = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        SegmintGroup.debug = os.environ.get("SEGMINT_DEBUG") == "1"
        try:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except HandOff as exc:  # a running server holds the workspace: it runs the command
            given = list(args) if args is not None else sys.argv[1:]
            raise SystemExit(hand_off(exc.server, given)) from None
        except SegmintError as exc:
            if SegmintGroup.debug:
                raise
            print_error(exc.render())
            raise SystemExit(1) from None
        except typer.Exit as exc:
            raise SystemExit(exc.exit_code) from None
        except typer.Abort:
            print_error("aborted")
            raise SystemExit(1) from None
        except typer.TyperException as exc:  # usage errors and bad parameters
            context = getattr(exc, "ctx", None)
            hint = f"\nRun '{context.command_path} --help' for usage." if context else ""
            print_error(exc.format_message() + hint)
            raise SystemExit(exc.exit_code or 2) from None
        except KeyboardInterrupt:
            print_error("interrupted")
            raise SystemExit(130) from None
        except Exception as exc:  # a bug: still one Error: line, the traceback on request
            if SegmintGroup.debug:
                raise
            print_error(
                f"unexpected error: {type(exc).__name__}: {exc}\n"
                "Hint: run again with --debug to see the traceback, and please report it"
            )
            raise SystemExit(1) from None


app = typer.Typer(
    cls=SegmintGroup,
    help="segmint: unify store exports into one customer base, then segment it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
