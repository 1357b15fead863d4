"""`qa-bot`: index documents, ask questions, chat, and run canned Q&A regressions."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .settings import Settings


class UserError(click.ClickException):
    """One line on stderr and exit code 2: something the user can fix."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"qa-bot: error: {self.message}", err=True)


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

        from .reader import ReaderError
        from .store import StoreError

        try:
            return super().invoke(ctx)
        except (StoreError, ReaderError, FileNotFoundError, PermissionError, ValueError) as exc:
            if isinstance(exc, ValidationError):
                raise UserError("; ".join(
                    f"bad setting QA_BOT_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}"
                    for e in exc.errors())) from None
            raise UserError(str(exc)) from None


@click.group(cls=_Group)
@click.option(
    "--index-dir", type=click.Path(file_okay=False, path_type=Path), envvar="QA_BOT_INDEX_DIR",
    help="Index folder (env QA_BOT_INDEX_DIR, default index/).",
)
@click.version_option(package_name="qa-bot")
@click.pass_context
def cli(ctx: click.Context, index_dir: Path | None) -> None:
    """Answer questions from your documents, offline, with a citation for every claim."""
    settings = Settings()  # a bad env var or .env line becomes one line in _Group.invoke
    if index_dir is not None:
        settings = settings.model_copy(update={"index_dir": index_dir})
    if settings.log_level:
        import logging

        logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx.obj = settings


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.pass_context
def index(ctx: click.Context, paths: tuple[Path, ...]) -> None:
    """Index (or re-sync) files and folders; default: seeds/."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from .indexer import sync
    from .service import make_encoder
    from .store import Store

    settings = _settings(ctx)
    targets = list(paths) or [Path("seeds")]
    err = Console(stderr=True, highlight=False)
    encoder = make_encoder(settings)
    progress = Progress(
        TextColumn("embedding"), BarColumn(), MofNCompleteColumn(), TextColumn("chunks"),
        TimeRemainingColumn(), console=err, transient=True,
    )
    task = progress.add_task("embed", total=None)

    def on_progress(event: str, n: int) -> None:
        if event == "total":
            progress.update(task, total=n)
        else:
            progress.advance(task, n)

    with progress:
        report = sync(targets, settings, encoder, Store.open(settings), on_progress)
    for skip in report.skipped:  # click, not rich: one line each, never wrapped
        click.echo(f"skipped {skip}", err=True)
    if report.rebuilt:
        click.echo("settings changed since the last index: rebuilt it from scratch", err=True)
    click.echo(f"indexed into {Store.open(settings).location}: {_sync_summary(report)}")


def _sync_summary(report) -> str:
    return (
        f"{len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
        f"{len(report.removed)} removed, {len(report.skipped)} skipped; "
        f"{report.chunks_embedded} chunks embedded, {report.chunks_total} in the index"
    )


def _watch_roots(settings: Settings, paths: tuple[Path, ...]) -> list[Path]:
    """PATHS, else the folders the index was built from (those still on disk)."""
    from .store import Store

    if paths:
        return list(paths)
    roots = [Path(r) for r in Store.open(settings).load_state().roots if Path(r).exists()]
    if not roots:
        raise UserError("nothing to watch: give PATHS (the index records no folders yet)")
    return roots


def _print_sync(report) -> None:
    import datetime as dt

    for skip in report.skipped:
        click.echo(f"skipped {skip}", err=True)
    if report.changed or report.rebuilt:
        click.echo(f"{dt.datetime.now():%H:%M:%S} synced: {_sync_summary(report)}")


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.pass_context
def watch(ctx: click.Context, paths: tuple[Path, ...]) -> None:
    """Keep the index in step with PATHS (default: the indexed folders) until Ctrl-C."""
    from .service import make_encoder
    from .store import Store
    from .watch import watch as run_watch

    settings = _settings(ctx)
    roots = _watch_roots(settings, paths)
    click.echo(f"watching {', '.join(map(str, roots))} (Ctrl-C to stop)", err=True)
    run_watch(roots, settings, make_encoder(settings), Store.open(settings), _print_sync)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--fix", is_flag=True, help="Reconcile: sync the index with the folders.")
@click.option("--json", "as_json", is_flag=True, help="Print the status as one JSON object.")
@click.pass_context
def status(ctx: click.Context, paths: tuple[Path, ...], fix: bool, as_json: bool) -> None:
    """Show what the index holds and its drift from PATHS (default: the indexed folders); exit 1 on drift."""
    from .indexer import sync
    from .service import make_encoder
    from .status import inspect, render
    from .store import Store

    settings = _settings(ctx)
    store, encoder = Store.open(settings), make_encoder(settings)
    if not store.exists():
        raise UserError(f"no index at {store.location} (run `qa-bot index` first)")
    roots = list(paths) or None
    if fix:
        report = sync(roots or [Path(r) for r in store.load_state().roots if Path(r).exists()],
                      settings, encoder, store)
        click.echo(f"fixed: {_sync_summary(report)}", err=True)
    result = inspect(settings, encoder, store, roots)
    click.echo(json.dumps(result.to_dict(), ensure_ascii=False) if as_json else render(result))
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
    from .format import render

    for i, q in enumerate(todo):
        answer = service.answer(q)
        if as_json:
            click.echo(json.dumps(answer.to_dict(), ensure_ascii=False))
        else:
            click.echo(("\n" if i else "") + render(answer))


@cli.command()
@_llm_option
@click.pass_context
def chat(ctx: click.Context, llm: str | None) -> None:
    """Interactive questions with history and line editing (Ctrl-D to leave)."""
    from .chat import run_chat

    run_chat(_service(_settings(ctx), llm))


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
        click.echo(json.dumps(results.to_dict(), ensure_ascii=False))
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
        from .service import make_encoder
        from .store import Store
        from .watch import start_in_thread

        _, stop = start_in_thread(list(watch_paths), settings, make_encoder(settings), Store.open(settings),
                                  _print_sync)
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
