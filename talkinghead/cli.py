"""The `talkinghead` command: subcommands from `talkinghead.commands`, one error policy for all.

User errors (`TalkingHeadError`) print one line, ``talkinghead: error: ...``, and exit 2; nothing is left
half-written. Anything else is a bug: one line too, exit 1, and ``TALKINGHEAD_DEBUG=1`` shows the traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import typing
from collections.abc import Callable, Sequence

from talkinghead import __version__
from talkinghead.cli_support import PROG
from talkinghead.commands import batch, render, verify, visemes
from talkinghead.commands import serve as serve_command
from talkinghead.errors import TalkingHeadError

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130

AddParser = Callable[[argparse._SubParsersAction], argparse.ArgumentParser]
Run = Callable[[argparse.Namespace], int]
COMMANDS: list[tuple[AddParser, Run]] = [
    (render.add_parser, render.run),
    (render.add_demo_parser, render.run_demo),
    (visemes.add_parser, visemes.run),
    (verify.add_parser, verify.run),
    (batch.add_parser, batch.run),
    (serve_command.add_parser, serve_command.run),
]


class ArgumentParser(argparse.ArgumentParser):
    """argparse with the one error style of the whole CLI: one line, ``talkinghead: error: ...``, exit 2
    (argparse's own prints the whole usage first). Sub-command parsers are of this class too."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(EXIT_USER_ERROR, f"{PROG}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog=PROG, description="Turn one portrait photo and a speech recording into a talking-head video.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_parser, run in COMMANDS:
        add_parser(commands).set_defaults(run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        status = args.run(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the error policy, not at interpreter exit
        return status
    except BrokenPipeError:  # the reader stopped early (`talkinghead visemes ... | head`): not an error
        _detach_stdout()
        return 0
    except TalkingHeadError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:  # the machine said no (a full disk, a name too long, no permission): not a bug
        if os.environ.get("TALKINGHEAD_DEBUG", "") not in ("", "0"):
            raise
        print(f"{PROG}: error: {describe_os_error(exc)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except MemoryError:
        print(f"{PROG}: error: out of memory; try a smaller --size or shorter audio", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug, not bad input: one line, and how to see more
        if os.environ.get("TALKINGHEAD_DEBUG", "") not in ("", "0"):
            raise
        print(f"{PROG}: internal error: {type(exc).__name__}: {exc} (set TALKINGHEAD_DEBUG=1 for a traceback; "
              "please report it)", file=sys.stderr)
        return 1


def describe_os_error(exc: OSError) -> str:
    """One line for an operating-system refusal: what failed, on which file."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{reason}: {str(exc.filename)[:200]}" if exc.filename else reason


def _detach_stdout() -> None:
    """Point stdout at /dev/null so Python's final flush does not fail again on the closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
