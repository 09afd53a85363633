"""The ``cloudjudge`` command: judge requests, browse the catalog, run the web app.

Exit status: 0 success; 2 invalid input or usage (nothing on stdout, every
problem on stderr naming its field); 1 anything else that stopped the command.
Each subcommand is one ``_add_*`` function and one ``_run_*`` function, so a
new one is a new pair and a line in ``build_parser``.
"""

from __future__ import annotations

import argparse
import codecs
import difflib
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, BinaryIO, TextIO

import yaml

import cloudjudge
from cloudjudge.catalog import Catalog, CatalogError, default_catalog
from cloudjudge.catalog.schema import Item
from cloudjudge.engine import FieldError, RequestError, judge, parse_request
from cloudjudge.presentation import terminal
from cloudjudge.validation import json_depth

PROG = "cloudjudge"
EXIT_OK, EXIT_FAILURE, EXIT_INVALID = 0, 1, 2
STDIN = "-"

#: Subcommands whose remaining arguments are passed on untouched, options included.
PASSTHROUGH = frozenset({"manage"})

#: Command groups that run a web-side management command, passing the rest of
#: the arguments through: ``cloudjudge audit verify`` is ``manage audit_verify``.
DJANGO_GROUPS: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {
    "audit": (
        "監査ログを検証・整理・出力する",
        {
            "verify": (
                "audit_verify",
                "ハッシュ連鎖・外部アンカー・台帳との一致を検証する（異常があれば終了状態 1）",
            ),
            "prune": ("audit_prune", "保存期間を過ぎた記録を整理する（連鎖は検証可能なまま）"),
            "export": ("audit_export", "CSV 又は JSON Lines で出力する"),
            "anchor": (
                "audit_anchor",
                "最新の記録のハッシュをファイル・メールに控える（外部アンカー）",
            ),
            "baseline": (
                "audit_baseline",
                "台帳の照合の導入前からある行の状態を基準として記録する（更新後に一度）",
            ),
        },
    ),
    "registry": (
        "公開リスト（ISMAP・ISMAP-LIU・LGWAN-ASP）を取り込み・確認する",
        {
            "import": ("registry_import", "リストのファイルを取り込む（KIND FILE）"),
            "diff": ("registry_diff", "直近の取込みの差分を表示する"),
            "list": ("registry_list", "登録簿を一覧表示する"),
            "check": ("registry_check", "利用中サービスの掲載期限を確認する（問題があれば 1）"),
        },
    ),
}

#: Top-level commands that run one web-side management command, passing the
#: rest of the arguments through: ``cloudjudge backup FILE`` is ``manage backup FILE``.
DJANGO_COMMANDS: dict[str, tuple[str, str]] = {
    "backup": ("backup", "データベースと証跡ファイルを 1 つのアーカイブにバックアップする"),
    "restore": ("restore", "バックアップを検査してから復元する"),
    "cleanup": ("cleanup", "中断した処理が残した保存ファイル・作業フォルダを一覧・削除する"),
    "rejudge": ("rejudge", "台帳の申請を判断基準の別の版で判定し直す（--dry-run で影響だけ）"),
}


class InputError(Exception):
    """Input that cannot be judged; ``errors`` are shown as ``path: message``."""

    def __init__(self, source: str, errors: Iterable[FieldError]):
        self.source = source
        self.errors = tuple(errors)
        super().__init__(source)


# --------------------------------------------------------------------------- parser


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=min(100, shutil.get_terminal_size((100, 24)).columns))

    def add_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, "使い方: " if prefix is None else prefix)


class _Parser(argparse.ArgumentParser):
    """argparse with Japanese headings and help, and usage errors exiting 2."""

    def __init__(self, *args: Any, add_help: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, add_help=False, **kwargs)  # type: ignore[misc]
        self._positionals.title = "引数"
        self._optionals.title = "オプション"
        if add_help:
            self.add_argument("-h", "--help", action="help", help="このヘルプを表示して終了する")

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_INVALID, f"{self.prog}: エラー: {message}\n")


class _VersionAction(argparse.Action):
    """``--version``, computed only when asked (it loads the catalog)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        kwargs.setdefault("help", "バージョンと判断基準の版を表示して終了する")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        catalog = default_catalog()
        print(f"{PROG} {cloudjudge.__version__}\n判断基準 {terminal.catalog_heading(catalog)}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="クラウドサービス利用判断システム — 堺市「クラウドサービス利用判断基準」に"
        "基づき、クラウドサービスの利用申請を判定する。",
        epilog="例:\n"
        "  cloudjudge judge examples/groupware-local-breakout.yaml\n"
        "  cloudjudge judge --format json request.json\n"
        "  cloudjudge judge --format jsonl requests.jsonl > decisions.jsonl\n"
        "  cloudjudge catalog S1\n"
        "  cloudjudge catalog show T1-02\n"
        "  cloudjudge catalog diff 1.0 NEW.yaml\n\n"
        "終了状態: 0 成功、2 入力・指定の誤り（内容は標準エラー出力）、1 その他の失敗",
    )
    parser.add_argument("--version", action=_VersionAction)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    _add_judge(commands)
    _add_catalog(commands)
    _add_serve(commands)
    _add_manage(commands)
    for group, (summary, subcommands) in DJANGO_GROUPS.items():
        _add_django_group(commands, group, summary, subcommands)
    for name, (command, summary) in DJANGO_COMMANDS.items():
        _add_django_command(commands, name, command, summary)
    return parser


def _subparser(
    commands: Any, name: str, summary: str, description: str = "", **kwargs: Any
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=summary,
        description=description or summary,
        formatter_class=_Formatter,
        **kwargs,
    )
    return parser


def _add_judge(commands: Any) -> None:
    p = _subparser(
        commands,
        "judge",
        "利用申請（YAML / JSON）を判定する",
        "利用申請を判定し、判定（禁止 / 承認が必要 / 利用可）、理由、必要な対策を出力する。\n\n"
        "  text   日本語の報告（既定）\n"
        "  json   判定結果の JSON（cloudjudge.judge() と同じ内容）\n"
        "  jsonl  1 行 1 申請の JSON Lines を読み、1 行 1 判定結果を逐次出力する。\n"
        "         誤りのある行は「行 N: 項目: 内容」を標準エラー出力に示して処理を続け、\n"
        "         1 行でも誤りがあれば終了状態 2。端末では標準エラー出力に進捗を表示する。",
    )
    p.add_argument("file", metavar="FILE", help="申請ファイル（YAML か JSON）。- で標準入力")
    p.add_argument(
        "-f",
        "--format",
        choices=("text", "json", "jsonl"),
        default="text",
        help="出力形式（既定: text）",
    )
    p.set_defaults(run=_run_judge)


def _add_catalog(commands: Any) -> None:
    p = _subparser(
        commands,
        "catalog",
        "判断基準のカタログ（条項・項目）を表示する",
        "判断基準のカタログを表示する。\n\n"
        "  cloudjudge catalog [PREFIX]        項目の一覧（catalog list と同じ）\n"
        "  cloudjudge catalog list [PREFIX]   項目の一覧。PREFIX は ID の先頭（例: S1, sel-f）\n"
        "  cloudjudge catalog show ID         項目 1 件を本文とともに（例: T1-02）\n"
        "  cloudjudge catalog show CLAUSE     条項 1 件を本文とともに（例: '3.1(1)(イ)'）\n"
        "  cloudjudge catalog check FILE      カタログを検査し、ファイル内の例を実行する\n"
        "  cloudjudge catalog new -o FILE     他の自治体のカタログのひな形を作る\n"
        "  cloudjudge catalog export-oscal    カタログを OSCAL 1.1 の catalog（JSON）で出力する\n"
        "  cloudjudge catalog import-oscal    OSCAL の catalog から新しい版の下書きを作る",
    )
    sub = p.add_subparsers(dest="catalog_command", metavar="SUBCOMMAND", parser_class=_Parser)
    sub.required = True
    lst = _subparser(sub, "list", "項目の一覧（ID・条項・題目）")
    lst.add_argument("prefix", metavar="PREFIX", nargs="?", default="", help="ID の先頭で絞り込む")
    lst.add_argument("-f", "--format", choices=("text", "json"), default="text")
    lst.set_defaults(run=_run_catalog_list)
    show = _subparser(sub, "show", "項目 1 件又は条項 1 件を本文とともに表示する")
    show.add_argument("ref", metavar="ID|CLAUSE", help="項目 ID（T1-02）又は条項（3.1(1)(イ)）")
    show.add_argument("-f", "--format", choices=("text", "json"), default="text")
    show.set_defaults(run=_run_catalog_show)
    _add_catalog_authoring(sub)
    _add_catalog_diff(sub)


def _add_catalog_diff(sub: Any) -> None:
    diff = _subparser(
        sub,
        "diff",
        "2 つの版の違いと、それで判定が変わる申請の事実の組合せを表示する",
        "2 つの版を比べ、項目の追加・削除・文言の変更、ルールの追加・削除・変更と、\n"
        "判定・承認・必要な対策が変わる申請の事実の組合せ（件数つき）を表示する。\n"
        "OLD・NEW は版（1.0）、ラベル（sakai-cloud-usage-criteria@1.0）、又はカタログのファイル。\n"
        "インストール済みの版: パッケージのカタログと $CLOUDJUDGE_CATALOG_DIRS のフォルダ。",
    )
    diff.add_argument("old", metavar="OLD", help="旧い版")
    diff.add_argument("new", metavar="NEW", help="新しい版")
    diff.add_argument("-f", "--format", choices=("text", "json"), default="text")
    diff.set_defaults(run=_run_catalog_diff)


def _add_serve(commands: Any) -> None:
    p = _subparser(commands, "serve", "Web アプリを起動する（cloudjudge.web）")
    p.add_argument("--host", default="127.0.0.1", help="待ち受けるアドレス（既定: 127.0.0.1）")
    p.add_argument("--port", type=int, default=8000, help="待ち受けるポート（既定: 8000）")
    p.set_defaults(run=_run_serve)


def _add_manage(commands: Any) -> None:
    p = _subparser(
        commands,
        "manage",
        "Web アプリの Django 管理コマンドを実行する（引数はそのまま渡す）",
        "Django の管理コマンドを実行する。後続の引数はすべてそのまま渡す。\n"
        "例: cloudjudge manage migrate / cloudjudge manage help",
        add_help=False,
    )
    p.add_argument("args", metavar="ARGS", nargs=argparse.REMAINDER, help="管理コマンドと引数")
    p.set_defaults(run=_run_manage)


def _add_django_group(
    commands: Any, group: str, summary: str, subcommands: dict[str, tuple[str, str]]
) -> None:
    p = _subparser(commands, group, summary)
    actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    actions.required = True
    for action, (command, help_text) in subcommands.items():
        sub = _subparser(actions, action, help_text, add_help=False)
        sub.add_argument(
            "args", metavar="ARGS", nargs=argparse.REMAINDER, help="引数（--help で詳細）"
        )
        sub.set_defaults(run=_run_django_command, django_command=command)


def _add_django_command(commands: Any, name: str, command: str, summary: str) -> None:
    p = _subparser(commands, name, summary, add_help=False)
    p.add_argument("args", metavar="ARGS", nargs=argparse.REMAINDER, help="引数（--help で詳細）")
    p.set_defaults(run=_run_django_command, django_command=command)


def _command_index(argv: Sequence[str]) -> int | None:
    """Index of the subcommand name (the top-level options take no value)."""
    return next((i for i, arg in enumerate(argv) if not arg.startswith("-")), None)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse, with two conveniences argparse cannot express on its own:
    ``catalog [PREFIX]`` means ``catalog list [PREFIX]``, and ``manage`` takes
    everything after it verbatim (``manage --help`` is Django's help)."""
    args = list(argv)
    index = _command_index(args)
    if index is not None and args[index] in (PASSTHROUGH | DJANGO_COMMANDS.keys()):
        namespace = build_parser().parse_args(args[: index + 1])
        namespace.args = args[index + 1 :]
        return namespace
    if index is not None and args[index] in DJANGO_GROUPS and len(args) > index + 1:
        namespace = build_parser().parse_args(args[: index + 2])
        namespace.args = args[index + 2 :]
        return namespace
    if index is not None and args[index] == "catalog":
        following = args[index + 1] if index + 1 < len(args) else None
        if following not in ("list", "show", "diff", *CATALOG_AUTHORING, "-h", "--help"):
            args.insert(index + 1, "list")
    return build_parser().parse_args(args)


# --------------------------------------------------------------------------- output


def _ensure_utf8(stream: TextIO) -> None:
    """JSON is UTF-8 by definition, and Japanese cannot be written as ASCII."""
    encoding = getattr(stream, "encoding", None) or "ascii"
    if codecs.lookup(encoding).name == "ascii" and hasattr(stream, "reconfigure"):
        stream.reconfigure(encoding="utf-8")


def _report_width() -> int:
    if sys.stdout.isatty():
        return max(60, min(terminal.WIDTH, shutil.get_terminal_size((terminal.WIDTH, 24)).columns))
    return terminal.WIDTH


def _error(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def _show_input_error(exc: InputError) -> None:
    count = f"（{len(exc.errors)} 件）" if len(exc.errors) > 1 else ""
    _error(f"{exc.source}: 入力に誤りがあるため判定できません{count}")
    for err in exc.errors:
        print(f"  {err}", file=sys.stderr)


# --------------------------------------------------------------------------- judge


def _source_name(name: str) -> str:
    return "標準入力" if name == STDIN else name


#: A request is a few hundred bytes; anything this large is not one (issue 14).
MAX_REQUEST_BYTES = 1024 * 1024
#: Nesting deeper than this is not a request: refused before it is built.
MAX_REQUEST_DEPTH = 16
_TOO_LARGE = f"大きすぎます（申請 1 件は {MAX_REQUEST_BYTES // 1024 // 1024} MiB まで）"


def _read_bytes(name: str) -> bytes:
    """The file or standard input, reading no more than the bound allows."""
    try:
        if name == STDIN:
            raw = sys.stdin.buffer.read(MAX_REQUEST_BYTES + 1)
        else:
            with open(name, "rb") as stream:
                raw = stream.read(MAX_REQUEST_BYTES + 1)
    except OSError as exc:
        raise InputError(
            _source_name(name), [FieldError("", f"ファイルを読めません（{exc.strerror}）")]
        ) from None
    if len(raw) > MAX_REQUEST_BYTES:
        raise InputError(_source_name(name), [FieldError("", _TOO_LARGE)])
    return raw


def _decode(raw: bytes, source: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            source, [FieldError("", f"UTF-8 として読めません（{exc.start + 1} バイト目）")]
        ) from None


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    where = f"{mark.line + 1} 行 {mark.column + 1} 文字目: " if mark is not None else ""
    return f"YAML / JSON として読めません（{where}{problem}）"


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _yaml_depth(text: str) -> int:
    """How deep the YAML nests, from the parser's events (which build nothing)."""
    depth = deepest = 0
    for event in yaml.parse(text, Loader=_YAML_LOADER):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_REQUEST_DEPTH:
                break
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return deepest


_TOO_DEEP = f"入れ子が深すぎます（{MAX_REQUEST_DEPTH} 段まで）"
_TOO_BIG_NUMBER = "数値が大きすぎます"


def load_request_data(text: str, source: str) -> dict[str, Any]:
    """A request mapping from YAML or JSON text (JSON is read by the YAML parser,
    or by the JSON parser where YAML 1.1 refuses it, e.g. tab indentation).

    Nesting is measured before anything is built, and a number too large to
    convert is an error, so hostile input is refused with a message (issue 14)."""
    try:
        if _yaml_depth(text) > MAX_REQUEST_DEPTH:
            raise InputError(
                source, [FieldError("", f"YAML / JSON として読めません（{_TOO_DEEP}）")]
            )
        data = yaml.load(text, Loader=_YAML_LOADER)
    except ValueError:  # int() of a number over Python's digit limit
        raise InputError(
            source, [FieldError("", f"YAML / JSON として読めません（{_TOO_BIG_NUMBER}）")]
        ) from None
    except yaml.YAMLError as yaml_exc:
        if not text.lstrip().startswith(("{", "[")):
            raise InputError(source, [FieldError("", _yaml_problem(yaml_exc))]) from None
        if json_depth(text, MAX_REQUEST_DEPTH) > MAX_REQUEST_DEPTH:
            raise InputError(
                source, [FieldError("", f"JSON として読めません（{_TOO_DEEP}）")]
            ) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            message = f"JSON として読めません（{exc.lineno} 行 {exc.colno} 文字目: {exc.msg}）"
            raise InputError(source, [FieldError("", message)]) from None
        except ValueError:
            message = f"JSON として読めません（{_TOO_BIG_NUMBER}）"
            raise InputError(source, [FieldError("", message)]) from None
    if not isinstance(data, dict):
        kind = "空です" if data is None else "最上位がキーと値の組（オブジェクト）ではありません"
        raise InputError(source, [FieldError("", f"申請として読めません: {kind}")])
    return data


def _run_judge(args: argparse.Namespace) -> int:
    if args.format == "jsonl":
        return _judge_jsonl(args.file)
    source = _source_name(args.file)
    data = load_request_data(_decode(_read_bytes(args.file), source), source)
    try:
        request = parse_request(data)
    except RequestError as exc:
        raise InputError(source, exc.errors) from None
    decision = judge(request)
    out = sys.stdout
    if args.format == "json":
        out.write(json.dumps(decision, ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(terminal.format_decision(request, decision, default_catalog(), _report_width()))
    return EXIT_OK


def _bounded_lines(stream: BinaryIO) -> Iterator[bytes | None]:
    """Each line of the stream, or ``None`` for a line longer than a request can be,
    which is skipped without being held in memory (issue 14)."""
    while True:
        line = stream.readline(MAX_REQUEST_BYTES + 1)
        if not line:
            return
        if len(line) <= MAX_REQUEST_BYTES or line.endswith(b"\n"):
            yield line
            continue
        while line and not line.endswith(b"\n"):
            line = stream.readline(MAX_REQUEST_BYTES)
        yield None


def _open_lines(name: str) -> tuple[Iterable[bytes | None], int | None, Callable[[], None]]:
    """The input as a stream of byte lines, its size if known, and how to close it."""
    if name == STDIN:
        return _bounded_lines(sys.stdin.buffer), None, lambda: None
    try:
        stream = open(name, "rb")  # noqa: SIM115 - closed by the caller
    except OSError as exc:
        raise InputError(
            name, [FieldError("", f"ファイルを読めません（{exc.strerror}）")]
        ) from None
    size = os.fstat(stream.fileno()).st_size
    return _bounded_lines(stream), (size or None), stream.close


def _judge_jsonl(name: str) -> int:
    """Stream: each line is decoded, judged and written before the next is read."""
    from tqdm import tqdm

    from cloudjudge.engine.batch import judge_lines

    stream, size, close = _open_lines(name)
    interactive = sys.stderr.isatty()
    progress = tqdm(
        total=size,
        unit="B" if size else "行",
        unit_scale=bool(size),
        disable=not interactive,
        file=sys.stderr,
        desc="判定中",
        leave=False,
    )
    bad_lines = 0

    def complain(number: int, errors: Iterable[FieldError]) -> None:
        nonlocal bad_lines
        bad_lines += 1
        for err in errors:
            message = f"行 {number}: {err}"
            if interactive:
                progress.write(message, file=sys.stderr)
            else:
                print(message, file=sys.stderr)

    def counted(lines: Iterable[bytes | None]) -> Iterator[bytes]:
        """The lines as bytes (pydantic reads UTF-8 itself, and says where it is not)."""
        for number, raw in enumerate(lines, start=1):
            if raw is None:
                complain(number, [FieldError("", f"1 行が{_TOO_LARGE}")])
                yield b""  # a blank line keeps judge_lines' numbering and is skipped
                continue
            progress.update(len(raw) if size else 1)
            yield raw.removeprefix(codecs.BOM_UTF8) if number == 1 else raw

    sys.stdout.flush()
    write = sys.stdout.buffer.write  # decisions come encoded, once per situation
    try:
        for result in judge_lines(counted(stream)):
            if result.error is not None:
                complain(result.line_number, result.error.errors)
            elif result.encoded is not None:
                write(result.encoded)
    finally:
        progress.close()
        close()
    return EXIT_INVALID if bad_lines else EXIT_OK


# --------------------------------------------------------------------------- catalog


def _item_json(item: Item) -> dict[str, Any]:
    return item.model_dump(mode="json")


def _catalog_json(catalog: Catalog) -> dict[str, str]:
    return {
        "id": catalog.id,
        "title": catalog.title,
        "version": catalog.version,
        "publisher": catalog.publisher,
        "label": catalog.label,
    }


def _write_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def _run_catalog_list(args: argparse.Namespace) -> int:
    catalog = default_catalog()
    prefix = args.prefix.strip()
    items = catalog.items_with_prefix(prefix) if prefix else catalog.items
    if not items:
        _error(f"ID が「{prefix}」で始まる項目はありません（一覧: {PROG} catalog）")
        return EXIT_INVALID
    if args.format == "json":
        _write_json({"catalog": _catalog_json(catalog), "items": [_item_json(i) for i in items]})
    else:
        sys.stdout.write(terminal.format_catalog_list(catalog, items, _report_width()))
    return EXIT_OK


#: Full-width ASCII (Ｔ１－０２, （イ）) as typed with a Japanese input method.
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}


def _normalise_ref(text: str) -> str:
    return "".join(text.translate(_HALF_WIDTH).split())


def _run_catalog_show(args: argparse.Namespace) -> int:
    catalog = default_catalog()
    wanted = _normalise_ref(args.ref)
    if catalog.has_item(wanted.upper()):
        item = catalog.item(wanted.upper())
        if args.format == "json":
            entry = _item_json(item)
            if catalog.has_clause(item.clause):
                entry["clause_title"] = catalog.clause(item.clause).title
            _write_json(entry)
        else:
            sys.stdout.write(terminal.format_item(catalog, item, _report_width()))
        return EXIT_OK
    clauses = {_normalise_ref(c.ref): c for c in catalog.clauses}
    if wanted in clauses:
        clause = clauses[wanted]
        items = [i for i in catalog.items if i.clause == clause.ref]
        if args.format == "json":
            _write_json({**clause.model_dump(mode="json"), "items": [i.id for i in items]})
        else:
            sys.stdout.write(terminal.format_clause(catalog, clause, items, _report_width()))
        return EXIT_OK
    candidates = [i.id for i in catalog.items] + [c.ref for c in catalog.clauses]
    close = difflib.get_close_matches(wanted.upper(), candidates, n=3, cutoff=0.6)
    hint = f"もしかして: {', '.join(close)}。" if close else ""
    _error(
        f"カタログに「{args.ref}」という項目 ID も条項もありません。"
        f"{hint}一覧は {PROG} catalog で表示できます。"
    )
    return EXIT_INVALID


# --------------------------------------------------------------------------- catalog authoring

#: ``catalog`` subcommands for catalog authors (issue 13), parsed by ``_add_catalog_authoring``.
CATALOG_AUTHORING = ("check", "new", "export-oscal", "import-oscal")


def _add_catalog_authoring(sub: Any) -> None:
    check = _subparser(
        sub,
        "check",
        "カタログを検査する（スキーマ・CEL・到達しないルール・求められない項目・例）",
        "カタログファイルを検査する: スキーマ、各ルールの CEL、到達しないルールと常に成り立つ\n"
        "ルール、どのルールも求めない項目、カタログに書かれた例（examples）の判定。\n\n"
        "終了状態: 0 問題なし（注意のみを含む）、1 問題あり、2 カタログとして読み込めない",
    )
    check.add_argument("file", metavar="FILE", help="カタログファイル（YAML）")
    check.add_argument("-f", "--format", choices=("text", "json"), default="text")
    check.set_defaults(run=_run_catalog_check)
    new = _subparser(
        sub,
        "new",
        "他の自治体のカタログのひな形を堺市のカタログから作る",
        "堺市のカタログの ID・構成・ルール・例をそのまま写し、本文とルールの説明文に\n"
        "「【要書換え】」を付けたひな形を書き出す。catalog check はひな形をそのまま受け付ける。",
    )
    new.add_argument("-o", "--output", required=True, metavar="FILE", help="書き出すファイル")
    new.add_argument("--id", required=True, help="カタログの ID（例: example-city-cloud-criteria）")
    new.add_argument("--publisher", required=True, help="発行する自治体（例: 例示市）")
    new.add_argument("--title", default="", help="題名（既定: 堺市のカタログの題名）")
    new.add_argument("--version", default="0.1", help="版（既定: 0.1）")
    new.add_argument("--force", action="store_true", help="既にあるファイルを上書きする")
    new.set_defaults(run=_run_catalog_new)
    export = _subparser(sub, "export-oscal", "カタログを OSCAL 1.1 の catalog（JSON）で出力する")
    export.add_argument(
        "file", metavar="FILE", nargs="?", default=None, help="カタログファイル（既定: 同梱の版）"
    )
    export.add_argument(
        "-o", "--output", metavar="OUT", default=STDIN, help="出力先（既定: 標準出力）"
    )
    export.set_defaults(run=_run_catalog_export_oscal)
    imp = _subparser(
        sub,
        "import-oscal",
        "OSCAL の catalog（JSON）から新しいカタログの版の下書き（YAML）を作る",
        "OSCAL の catalog から条項・項目の ID と本文を写した下書きを作る。\n"
        "ルールは含まれないため、"
        "書き加えてから cloudjudge catalog check で検査する。",
    )
    imp.add_argument("file", metavar="FILE", help="OSCAL catalog の JSON ファイル")
    imp.add_argument(
        "-o", "--output", required=True, metavar="DRAFT", help="下書きの YAML ファイル"
    )
    imp.add_argument("--force", action="store_true", help="既にあるファイルを上書きする")
    imp.set_defaults(run=_run_catalog_import_oscal)


def _run_catalog_check(args: argparse.Namespace) -> int:
    from cloudjudge.engine.check import EXIT_UNUSABLE, check_catalog

    report = check_catalog(args.file)
    if args.format == "json":
        _write_json(
            {
                "file": report.path,
                "status": report.status,
                "counts": {
                    "rules": report.rules,
                    "items": report.items,
                    "examples": report.examples,
                },
                "findings": [
                    {"kind": f.kind, "entry": f.entry, "message": f.message}
                    for f in report.findings
                ],
            }
        )
        return report.status
    stream = sys.stderr if report.status == EXIT_UNUSABLE else sys.stdout
    for line in report.lines():
        print(line, file=stream)
    print(report.summary(), file=stream)
    return report.status


def _write_new_file(name: str, text: str, force: bool) -> int:
    """Write ``text`` to ``name`` whole; an existing file only with ``--force``."""
    try:
        with open(name, "w" if force else "x", encoding="utf-8") as out:
            out.write(text)
    except FileExistsError:
        _error(f"{name}: ファイルが既にあります（上書きするには --force）")
        return EXIT_INVALID
    except OSError as exc:
        _error(f"{name}: 書き出せません（{exc.strerror}）")
        return EXIT_FAILURE
    return EXIT_OK


def _run_catalog_new(args: argparse.Namespace) -> int:
    from cloudjudge.catalog.loader import DEFAULT_CATALOG, read_catalog_file
    from cloudjudge.catalog.scaffold import ScaffoldError, scaffold_yaml

    try:
        text = scaffold_yaml(
            read_catalog_file(DEFAULT_CATALOG),
            catalog_id=args.id,
            publisher=args.publisher,
            title=args.title,
            version=args.version,
        )
    except ScaffoldError as exc:
        _error(str(exc))
        return EXIT_INVALID
    status = _write_new_file(args.output, text, args.force)
    if status == EXIT_OK:
        print(
            f"{args.output} を作りました。「【要書換え】」の付いた本文を書き換え、"
            f"{PROG} catalog check {args.output} で検査してください。"
        )
    return status


def _run_catalog_export_oscal(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from cloudjudge.catalog.loader import DEFAULT_CATALOG, read_catalog_file
    from cloudjudge.catalog.oscal import catalog_to_oscal

    try:
        doc = read_catalog_file(args.file or DEFAULT_CATALOG)
    except CatalogError as exc:
        _error(f"カタログを読み込めません: {exc}")
        return EXIT_INVALID
    text = json.dumps(catalog_to_oscal(doc, datetime.now(UTC)), ensure_ascii=False, indent=2)
    if args.output == STDIN:
        sys.stdout.write(text + "\n")
        return EXIT_OK
    return _write_new_file(args.output, text + "\n", force=True)


def _run_catalog_import_oscal(args: argparse.Namespace) -> int:
    from cloudjudge.catalog.oscal import OscalError, draft_yaml, read_oscal_catalog

    try:
        with open(args.file, "rb") as stream:
            draft = read_oscal_catalog(stream)
    except OSError as exc:
        _error(f"{args.file}: ファイルを読めません（{exc.strerror}）")
        return EXIT_INVALID
    except OscalError as exc:
        _error(f"{args.file}: {exc}")
        return EXIT_INVALID
    status = _write_new_file(args.output, draft_yaml(draft), args.force)
    if status == EXIT_OK:
        print(
            f"{args.output} に下書きを作りました（条項 {len(draft.clauses)} 件・"
            f"項目 {len(draft.items)} 件、ルールなし）。ルールと例を書き加え、"
            f"{PROG} catalog check {args.output} で検査してください。"
        )
    return status


def _run_catalog_diff(args: argparse.Namespace) -> int:
    from cloudjudge.catalog.versions import catalog_for
    from cloudjudge.engine.revisions import diff_catalogs
    from cloudjudge.presentation.revisions import format_catalog_diff

    try:
        old, new = catalog_for(args.old), catalog_for(args.new)
    except CatalogError as exc:
        _error(str(exc))
        return EXIT_INVALID
    diff = diff_catalogs(old, new)
    if args.format == "json":
        _write_json(diff.as_json())
    else:
        sys.stdout.write(format_catalog_diff(diff))
    return EXIT_OK


# --------------------------------------------------------------------------- web


def _run_serve(args: argparse.Namespace) -> int:
    from django.core.exceptions import ImproperlyConfigured

    from cloudjudge.web.serve import serve

    try:
        result = serve(args.host, args.port)
    except ImproperlyConfigured as exc:
        return _settings_error(exc)
    return result if isinstance(result, int) else EXIT_OK


def _run_manage(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudjudge.web.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line([f"{PROG} manage", *args.args])
    except ImproperlyConfigured as exc:
        return _settings_error(exc)
    return EXIT_OK


def _settings_error(exc: Exception) -> int:
    _error(
        f"Web アプリの設定に誤りがあります: {exc}\n"
        "（手元で試すだけなら CLOUDJUDGE_DEBUG=1 を設定してください。"
        "本番の設定は docs/deploy.md を参照）"
    )
    return EXIT_FAILURE


def _run_django_command(args: argparse.Namespace) -> int:
    """Django exits with the command's status itself (1 on CommandError)."""
    args.args = [args.django_command, *args.args]
    return _run_manage(args)


# --------------------------------------------------------------------------- main


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the interpreter's own
    final flush does not complain either."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status (the console script exits with it)."""
    _ensure_utf8(sys.stdout)
    _ensure_utf8(sys.stderr)
    try:
        try:
            args = parse_args(sys.argv[1:] if argv is None else argv)
        except SystemExit as exc:  # --help, --version, usage errors
            return exc.code if isinstance(exc.code, int) else EXIT_FAILURE
        status: int = args.run(args)
        sys.stdout.flush()
        return status
    except InputError as exc:
        _show_input_error(exc)
        return EXIT_INVALID
    except BrokenPipeError:
        _silence_stdout()
        return 128 + 13  # as if killed by SIGPIPE, like other filters under `| head`
    except KeyboardInterrupt:
        return 128 + 2
    except CatalogError as exc:
        _error(f"カタログを読み込めません: {exc}")
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
