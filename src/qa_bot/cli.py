"""`qa-bot`: index documents, ask questions, chat, and run canned Q&A regressions."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .sanitize import printable, safe_json
from .settings import Settings


def _echo(text: str, err: bool = False) -> None:
    """Print a line that may hold document text or file names: no control characters reach the
    terminal (an OSC 52 escape in a document could write to the user's clipboard)."""
    click.echo(printable(text), err=err)


def _echo_json(obj) -> None:
    click.echo(safe_json(json.dumps(obj, ensure_ascii=False)))


class UserError(click.ClickException):
    """One line on stderr and exit code 2: something the user can fix."""

    exit_code = 2

    def show(self, file=None) -> None:
        _echo(f"qa-bot: error: {self.message}", err=True)


def _say(line: str) -> None:
    _echo(line, err=True)


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj


def _service(settings: Settings, llm: str | None = None):
    from .reader import ReaderError
    from .service import QAService
    from .store import StoreError

    if llm is not None:
        settings = settings.model_copy(update={"llm": llm})
    try:
        return QAService(settings)
    except (StoreError, ReaderError) as exc:
        raise UserError(str(exc)) from None


class _Group(click.Group):
    """Turns known failures into one line instead of a traceback."""

    def invoke(self, ctx):
        from pydantic import ValidationError

        from .errors import QABotError

        try:
            return super().invoke(ctx)
        except ValidationError as exc:
            raise UserError("; ".join(
                f"bad setting QA_BOT_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}"
                for e in exc.errors())) from None
        except (QABotError, OSError) as exc:  # anything else is a bug: its traceback shows
            raise UserError(str(exc)) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--index-dir", type=click.Path(file_okay=False, path_type=Path), envvar="QA_BOT_INDEX_DIR",
    help="Index folder (env QA_BOT_INDEX_DIR, default index/).",
)
@click.option("-q", "--quiet", is_flag=True, help="Log errors only (no notices such as the first-run model export).")
@click.option("-v", "--verbose", count=True, help="Log progress (-v) or everything (-vv); overrides QA_BOT_LOG_LEVEL.")
@click.version_option(package_name="qa-bot")
@click.pass_context
def cli(ctx: click.Context, index_dir: Path | None, quiet: bool, verbose: int) -> None:
    """Answer questions from your documents, offline, with a citation for every claim."""
    settings = Settings()  # a bad env var or .env line becomes one line in _Group.invoke
    if index_dir is not None:
        settings = settings.model_copy(update={"index_dir": index_dir})
    if quiet and verbose:
        raise UserError("give --quiet or --verbose, not both")
    level = settings.log_level
    if quiet:
        level = "ERROR"
    elif verbose:
        level = "INFO" if verbose == 1 else "DEBUG"
    if level:
        import logging

        handler = logging.StreamHandler()
        # On the handler too: a library that sets its own logger to DEBUG (bm25s does) would
        # otherwise pass the root's level and print under --quiet.
        handler.setLevel(level)
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", handlers=[handler])
    ctx.obj = settings


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.pass_context
def index(ctx: click.Context, paths: tuple[Path, ...]) -> None:
    """Index (or re-sync) files and folders; default: the folders already indexed (seeds/ for a new index)."""
    from rich.console import Console

    from .indexer import Index
    from .progress import SyncProgress

    index = Index(_settings(ctx))
    targets = index.targets(paths)
    with SyncProgress(Console(stderr=True, highlight=False)) as progress:
        report = index.sync(targets, progress, _say)
    _print_skips(report)
    if report.rebuilt:
        click.echo("settings changed since the last index: rebuilt it from scratch", err=True)
    _echo(f"indexed into {index.storage.location}: {_sync_summary(report)}")


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_context
def forget(ctx: click.Context, paths: tuple[Path, ...]) -> None:
    """Drop indexed folders (or files) from the index: their documents go, and index, watch and
    status stop using them."""
    from .indexer import Index

    index = Index(_settings(ctx))
    if not index.storage.manifest.exists():
        raise UserError(f"no index at {index.storage.location} (nothing to forget)")
    report = index.forget(paths, _say)
    _echo(f"forgot {', '.join(map(str, paths))}: {len(report.removed)} documents removed, "
          f"{report.chunks_total} chunks left in {index.storage.location}")


def _sync_summary(report) -> str:
    return (
        f"{len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
        f"{len(report.removed)} removed, {len(report.skipped)} skipped; "
        f"{report.chunks_embedded} chunks embedded, {report.chunks_total} in the index"
    )


def _print_skips(report) -> None:
    for skip in report.skipped:  # click, not rich: one line each, never wrapped
        _echo(f"skipped {skip}", err=True)


def _print_sync(report) -> None:
    import datetime as dt

    _print_skips(report)
    if report.changed or report.rebuilt:
        _echo(f"{dt.datetime.now():%H:%M:%S} synced: {_sync_summary(report)}")


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.pass_context
def watch(ctx: click.Context, paths: tuple[Path, ...]) -> None:
    """Keep the index in step with PATHS (default: the indexed folders; seeds/ for a new index) until Ctrl-C."""
    from .indexer import Index

    index = Index(_settings(ctx))
    roots = index.targets(paths)
    _echo(f"watching {', '.join(map(str, roots))} (Ctrl-C to stop)", err=True)
    try:
        index.watch(roots, _print_sync)
    except KeyboardInterrupt:
        # Ctrl-C is how a watch ends: while the watcher waits, watchfiles takes it and returns;
        # one that lands mid-sync is the same request (an unfinished sync leaves the last commit).
        _echo("stopped", err=True)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--fix", is_flag=True, help="Reconcile: sync the index with the folders.")
@click.option("--json", "as_json", is_flag=True, help="Print the status as one JSON object.")
@click.pass_context
def status(ctx: click.Context, paths: tuple[Path, ...], fix: bool, as_json: bool) -> None:
    """Show what the index holds and its drift from PATHS (default: the indexed folders); exit 1 on drift.

    Files that cannot be indexed (unsupported, unreadable, no text) are listed as skipped, with why: not drift."""
    from .indexer import Index
    from .status import render

    index = Index(_settings(ctx))
    if not index.storage.manifest.exists():
        raise UserError(f"no index at {index.storage.location} (run `qa-bot index` first)")
    # Unlike `index`, no error when every recorded folder is gone: that is drift to show (or fix).
    roots = list(paths) or index.roots
    if fix:
        report = index.sync(roots, on_wait=_say)
        _print_skips(report)
        _echo(f"fixed: {_sync_summary(report)}", err=True)
    result = index.status(roots)
    if as_json:
        _echo_json(result.to_dict())
    else:
        _echo(render(result))
    ctx.exit(1 if result.drift else 0)


_llm_option = click.option(
    "--llm", metavar="SPEC",
    help="Who writes answers: extractive, openai:MODEL, ollama:MODEL or llamacpp:FILE.gguf (env QA_BOT_LLM).",
)


@cli.command()
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per question.")
@click.option(
    "--questions", type=click.File("r", encoding="utf-8"),
    help="Read questions from FILE (one a line; - for stdin).",
)
@_llm_option
@click.pass_context
def ask(ctx: click.Context, question: str | None, as_json: bool, questions, llm: str | None) -> None:
    """Answer QUESTION from the index, with sources."""
    if (question is None) == (questions is None):
        raise UserError("give one QUESTION or --questions FILE")
    todo = [question] if question is not None else [q.strip() for q in questions if q.strip()]
    service = _service(_settings(ctx), llm)
    from rich.console import Console

    from .format import print_rich, render

    console = Console(highlight=False)
    for i, q in enumerate(todo):
        answer = service.answer(q)
        if as_json:
            _echo_json(answer.to_dict())
        elif console.is_terminal:
            if i:
                console.print()
            print_rich(answer, console)
        else:  # piped: the Markdown text, code blocks fenced; render() leaves no control characters
            click.echo(("\n" if i else "") + render(answer))


@cli.command()
def schema() -> None:
    """Print the JSON Schema of `ask --json` output (kept in docs/answer.schema.json)."""
    from .schema import answer_json_schema

    click.echo(json.dumps(answer_json_schema(), indent=2, ensure_ascii=False))


@cli.command()
@_llm_option
@click.pass_context
def chat(ctx: click.Context, llm: str | None) -> None:
    """Interactive questions with history and line editing (Ctrl-D to leave)."""
    from .chat import PipedLines, run_chat

    # Piped questions (`qa-bot chat < questions.txt`) get their answers only: no prompt, no banner.
    run_chat(_service(_settings(ctx), llm), session=None if sys.stdin.isatty() else PipedLines(sys.stdin))


@cli.command("eval")
@click.argument("cases_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the results as one JSON object.")
@click.pass_context
def eval_(ctx: click.Context, cases_file: Path, as_json: bool) -> None:
    """Run canned Q&A cases; exit 1 if any fails."""
    from .evaluate import load_cases, print_report, run_cases

    cases = load_cases(cases_file)
    results = run_cases(_service(_settings(ctx)), cases, base=cases_file.parent)
    if as_json:
        _echo_json(results.to_dict())
    else:
        print_report(results)
    ctx.exit(0 if results.failed == 0 else 1)


@cli.command()
@click.option("--guild", type=int, help="Sync /ask to this guild only (instant, for setup).")
@click.option("--watch", "watch_paths", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Keep the index in step with this folder while the bot runs (repeatable).")
@click.pass_context
def discord(ctx: click.Context, guild: int | None, watch_paths: tuple[Path, ...]) -> None:
    """Run the Discord bot (token from DISCORD_TOKEN or .env)."""
    try:
        from .discord_bot import run
    except ImportError as exc:
        raise UserError(f"the Discord extra is not installed ({exc}); pip install 'qa-bot[discord]'") from None
    settings = _settings(ctx)
    stop = None
    if watch_paths:
        # In-process, so the bot's embedded store sees every write (see docs/operations.md).
        from .indexer import Index

        _, stop = Index(settings).watch_in_thread(list(watch_paths), _print_sync)
    try:
        code = run(settings, guild_id=guild)
    finally:
        if stop is not None:
            stop.set()
    ctx.exit(code)


def main() -> None:
    cli(prog_name="qa-bot")


if __name__ == "__main__":
    sys.exit(main())
