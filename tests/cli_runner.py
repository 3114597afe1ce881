"""Run the kagsync CLI in-process, as typer's CliRunner does, on a command built once.

typer's ``CliRunner.invoke`` rebuilds the whole click command tree from the Typer app on
every call (``typer.main.get_command``): about 30 ms of type-hint evaluation for kagsync's
36 commands. The suite invokes the CLI some 1,400 times, so that rebuild alone cost a
minute of CPU, about 40% of the suite. A real ``kagsync`` process builds the tree once; so
does this runner (once per test process). Each invocation gets a new click context, and
kagsync closes its database connection when that context closes. Introspection that
makes contexts by hand (tests/test_docs.py) builds its own tree: click caches a
command's help option on the command, from whichever context asked first.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import typer
from typer.testing import CliRunner, Result

from kagsync.cli import app


@cache
def kagsync_command() -> Any:
    """The click command tree of ``kagsync``, built once per test process."""
    return typer.main.get_command(app)


def invoke(
    args: str | Sequence[str],
    *,
    input: str | bytes | None = None,
    env: Mapping[str, str | None] | None = None,
    catch_exceptions: bool = True,
) -> Result:
    """Run ``kagsync ARGS`` in-process; what typer's ``CliRunner().invoke(app, ...)`` returns."""
    runner = CliRunner()
    command = kagsync_command()
    if isinstance(args, str):
        args = shlex.split(args)
    exit_code: int = 0
    exception: BaseException | None = None
    exc_info = None
    with runner.isolation(input=input, env=env) as (stdout, stderr, output):
        try:
            command.main(args=list(args), prog_name=runner.get_default_prog_name(command))
        except SystemExit as stop:
            code = 0 if stop.code is None else stop.code
            if code != 0:
                exception, exc_info = stop, sys.exc_info()
            if not isinstance(code, int):
                sys.stdout.write(f"{code}\n")
                code = 1
            exit_code = code
        except Exception as error:
            if not catch_exceptions:
                raise
            exception, exc_info, exit_code = error, sys.exc_info(), 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            captured = stdout.getvalue(), stderr.getvalue(), output.getvalue()
    return Result(
        runner=runner,
        stdout_bytes=captured[0],
        stderr_bytes=captured[1],
        output_bytes=captured[2],
        return_value=None,
        exit_code=exit_code,
        exception=exception,
        exc_info=exc_info,  # type: ignore[arg-type]
    )
