"""The ``cloudjudge`` command as a user runs it, checked on what a user sees
(stdout, stderr, exit status).

Most tests call ``cloudjudge.cli.main(argv)`` in this process with real byte
streams for stdin, stdout and stderr (``run``): the same code path as the
console script, without starting Python each time. A handful of smoke tests
run the installed console script in a real subprocess (``run_installed``, and
the streaming and broken-pipe tests), which only a process can show."""

from __future__ import annotations

import contextlib
import io
import json
import selectors
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import cloudjudge
import cloudjudge.cli
from cloudjudge.catalog import default_catalog
from cloudjudge.labels import GROUP_LABELS, VERDICT_LABELS
from cloudjudge.presentation.wrapping import display_width

CLI = Path(sys.executable).parent / "cloudjudge"
ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
GROUPWARE = ROOT / "examples" / "groupware-local-breakout.yaml"


def run(
    *args: str, stdin: str | bytes | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    """``cloudjudge ARGS`` in this process: ``main(argv)`` with stdin, stdout and
    stderr as byte streams, answered as a finished subprocess would be."""
    data = stdin.encode() if isinstance(stdin, str) else stdin or b""
    streams = {name: io.BytesIO(data if name == "stdin" else b"") for name in STREAMS}
    texts = {name: io.TextIOWrapper(raw, encoding="utf-8") for name, raw in streams.items()}
    with contextlib.ExitStack() as stack:
        for name, text in texts.items():
            stack.enter_context(_replaced(name, text))
        if cwd is not None:
            stack.enter_context(contextlib.chdir(cwd))
        try:
            status = cloudjudge.cli.main(list(args))
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 1
        for text in texts.values():
            text.flush()
    return subprocess.CompletedProcess(
        ["cloudjudge", *args], status, streams["stdout"].getvalue(), streams["stderr"].getvalue()
    )


STREAMS = ("stdin", "stdout", "stderr")


@contextlib.contextmanager
def _replaced(name: str, stream: io.TextIOWrapper):
    saved = getattr(sys, name)
    setattr(sys, name, stream)
    try:
        yield
    finally:
        setattr(sys, name, saved)


def run_installed(*args: str, stdin: str | bytes | None = None, cwd: Path | None = None):
    """``cloudjudge ARGS`` as the installed console script, in a subprocess."""
    return subprocess.run(
        [str(CLI), *args],
        input=stdin.encode() if isinstance(stdin, str) else stdin,
        capture_output=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def out(result: subprocess.CompletedProcess) -> str:
    return result.stdout.decode("utf-8")


def err(result: subprocess.CompletedProcess) -> str:
    return result.stderr.decode("utf-8")


def request(**overrides: Any) -> dict[str, Any]:
    """A valid request; ``overrides`` replace whole parts."""
    base: dict[str, Any] = {
        "service": {"name": "テストサービス", "listings": ["ismap"]},
        "data": {"confidentiality": "3B"},
        "connection": {"method": "local_breakout", "breakout_usage": "no_file_import"},
    }
    base.update(overrides)
    return base


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- judge: text


EXPECTED = {
    "contractor-download.yaml": ("利用可", ["S1-11N", "S2-14", "T1-01"]),
    "groupware-local-breakout.yaml": ("利用可", ["T1-06", "T1-07", "S1-02", "SEL-A1", "PROC-2"]),
    "internet-pc-file-sharing.yaml": ("承認が必要", ["S2-01", "S2-22", "EXIT-1"]),
    "my-number-over-internet.yaml": ("禁止", []),
    "virus-definitions.yaml": ("利用可", ["SU-1", "SU-2", "SU-3", "T1-02"]),
}


def test_every_example_has_an_expectation():
    assert {p.name for p in EXAMPLES} == set(EXPECTED)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_text_report_shows_verdict_and_every_required_id(path: Path):
    result = run("judge", str(path))
    assert result.returncode == 0, err(result)
    assert err(result) == ""
    text = out(result)
    verdict, some_ids = EXPECTED[path.name]
    assert f"判定          【{verdict}】" in text
    decision = cloudjudge.judge(load(path))
    assert VERDICT_LABELS[decision["verdict"]] == verdict
    assert load(path)["service"]["name"] in text
    assert decision["criteria_version"] in text
    for item_id in some_ids:
        assert f"    {item_id}  " in text
    for item in decision["required"]:
        assert f"    {item['id']}  " in text, item["id"]
    for finding in decision["findings"]:
        assert f"] {finding['clause']}（{finding['rule']}）\n" in text
    for n, remedy in enumerate(decision["remedies"], start=1):
        assert f"  {n}. " in text and remedy["clause"] in text


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_text_report_fits_a_100_column_terminal(path: Path):
    lines = out(run("judge", str(path))).splitlines()
    assert max(display_width(line) for line in lines) <= 100


def test_text_report_groups_measures_by_source_with_one_shared_reason():
    text = out(run("judge", str(GROUPWARE)))
    decision = cloudjudge.judge(load(GROUPWARE))
    t1_reason = next(r["reason"] for r in decision["required"] if r["id"].startswith("T1-"))
    measures = text.split("必要な対策（45 件）")[1]
    # 11 表1 rows share one reason: the report says it once, not 11 times.
    assert measures.count("理由: ") == 5
    flat = measures.replace("\n", "").replace(" ", "")
    assert flat.count(t1_reason.replace(" ", "")) == 1
    order = [text.index(f"【{GROUP_LABELS[g]}】") for g in ("T1", "S1", "SEL", "EXIT", "PROC")]
    assert order == sorted(order)
    assert f"【{GROUP_LABELS['T1']}】 11 件" in text
    assert GROUP_LABELS["S2"] not in text


def test_text_report_names_the_approver_and_pia():
    approval = out(run("judge", str(ROOT / "examples/internet-pc-file-sharing.yaml")))
    assert "承認          統括情報セキュリティ責任者の承認が必要" in approval
    assert "PIA           不要" in approval
    my_number = out(run("judge", str(ROOT / "examples/my-number-over-internet.yaml")))
    # Nothing, PIA included, is asked of a use that is forbidden (issue #9 ruling 4).
    assert "PIA           対象外（禁止のため）" in my_number
    assert "根拠          別紙1①" in my_number
    findings = my_number.split("判定理由（")[1].split("利用できるようにする変更")[0]
    assert "[禁止] 別紙1①" in findings and "[要対策]" not in findings
    assert "1. 接続方法を「LGWAN-ASP 利用方式」にする（別紙1①）→ 利用可" in my_number


def test_text_report_of_a_prohibited_request():
    data = request(data={"confidentiality": "3A"})
    result = run_installed("judge", "-", stdin=json.dumps(data))
    assert result.returncode == 0
    assert "判定          【禁止】" in out(result)
    assert "[禁止] 2（R-2-3A）\n" in out(result)
    assert "禁止は解けません" in out(result).replace("\n  ", "")


# --------------------------------------------------------------------------- judge: json


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_json_output_equals_the_python_api(path: Path):
    result = run("judge", "--format", "json", str(path))
    assert result.returncode == 0, err(result)
    assert json.loads(out(result)) == cloudjudge.judge(load(path))
    assert '  "verdict"' in out(result)  # indented, as documented
    assert "\\u" not in out(result)  # Japanese written as such


def test_stdin_dash_reads_yaml_and_json(tmp_path: Path):
    yaml_text = GROUPWARE.read_text(encoding="utf-8")
    from_yaml = run("judge", "-f", "json", "-", stdin=yaml_text)
    assert from_yaml.returncode == 0, err(from_yaml)
    assert json.loads(out(from_yaml)) == cloudjudge.judge(load(GROUPWARE))
    as_text = run("judge", "-", stdin=yaml_text)
    assert "【利用可】" in out(as_text)


def test_json_file_with_tab_indentation(tmp_path: Path):
    data = request()
    path = tmp_path / "request.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent="\t"), encoding="utf-8")
    result = run("judge", "-f", "json", str(path))
    assert result.returncode == 0, err(result)
    assert json.loads(out(result)) == cloudjudge.judge(data)


# --------------------------------------------------------------------------- judge: invalid input

INVALID = {
    "unknown-enum": ("service: {name: x}\ndata: {confidentiality: '4'}\n"
                     "connection: {method: lgwan_asp}\n", ["data.confidentiality", "3B"]),
    "unknown-method": ("service: {name: x}\ndata: {confidentiality: '2'}\n"
                       "connection: {method: carrier_pigeon}\n", ["connection.method"]),
    "missing-field": ("service: {provider: y}\ndata: {confidentiality: '2'}\n"
                      "connection: {method: lgwan_asp}\n", ["service.name", "必須"]),
    "missing-part": ("service: {name: x}\ndata: {confidentiality: '2'}\n", ["connection"]),
    "breakout-usage": ("service: {name: x}\ndata: {confidentiality: '2'}\n"
                       "connection: {method: local_breakout}\n", ["connection.breakout_usage"]),
    "unknown-key": ("service: {name: x, nmae: y}\ndata: {confidentiality: '2'}\n"
                    "connection: {method: lgwan_asp}\n", ["service.nmae"]),
    "malformed-yaml": ("service:\n  name: [x\ndata: {}\n", ["YAML", "行"]),
    "malformed-json": ('{"service": {"name": "x"},\n "data": {"confidentiality": "2"}\n',
                       ["JSON", "3 行"]),
    "top-level-list": ("- service\n- data\n", ["最上位"]),
    "empty": ("", ["空"]),
}  # fmt: skip


@pytest.mark.parametrize("case", INVALID, ids=str)
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_invalid_input_exits_2_naming_the_field_with_nothing_on_stdout(
    case: str, fmt: str, tmp_path: Path
):
    content, expected = INVALID[case]
    path = tmp_path / "request.yaml"
    path.write_text(content, encoding="utf-8")
    for result in (run("judge", "-f", fmt, str(path)), run("judge", "-f", fmt, "-", stdin=content)):
        assert result.returncode == 2
        assert result.stdout == b""
        for fragment in expected:
            assert fragment in err(result)
        assert "Traceback" not in err(result)


def test_every_error_of_a_request_is_reported(tmp_path: Path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "service: {name: x, listings: [nope]}\ndata: {confidentiality: 9}\n"
        "connection: {method: local_breakout}\n",
        encoding="utf-8",
    )
    result = run("judge", str(path))
    assert result.returncode == 2
    lines = err(result).splitlines()
    assert str(path) in lines[0]
    paths = [line.strip().split(":")[0] for line in lines[1:]]
    assert paths == ["service.listings.0", "data.confidentiality", "connection.breakout_usage"]


def test_unreadable_file_exits_2(tmp_path: Path):
    missing = tmp_path / "missing.yaml"
    result = run("judge", str(missing))
    assert result.returncode == 2
    assert result.stdout == b""
    assert str(missing) in err(result)
    assert "読めません" in err(result)
    not_utf8 = tmp_path / "sjis.yaml"
    not_utf8.write_bytes("service: {name: テスト}".encode("shift_jis"))
    result = run("judge", str(not_utf8))
    assert (result.returncode, result.stdout) == (2, b"")
    assert "UTF-8" in err(result)


# --------------------------------------------------------------------------- judge: jsonl

GOOD_1 = request()
GOOD_2 = request(
    service={"name": "二件目", "isms_certifications": ["iso27001"]},
    data={"confidentiality": "3C", "my_number": False},
    connection={"method": "internet_pc"},
    exceptions={"internet_only_function": True},
)
BAD_ENUM = request(connection={"method": "local_breakout", "breakout_usage": "sometimes"})


def jsonl(*lines: str) -> str:
    return "".join(line + "\n" for line in lines)


MIXED = jsonl(
    json.dumps(GOOD_1, ensure_ascii=False),
    '{"service": {"name": "壊れた行"',
    json.dumps(BAD_ENUM, ensure_ascii=False),
    json.dumps(GOOD_2, ensure_ascii=False),
)


def test_jsonl_judges_good_lines_and_reports_bad_ones_by_line(tmp_path: Path):
    path = tmp_path / "requests.jsonl"
    path.write_text(MIXED, encoding="utf-8")
    result = run("judge", "--format", "jsonl", str(path))
    assert result.returncode == 2
    decisions = [json.loads(line) for line in out(result).splitlines()]
    assert decisions == [cloudjudge.judge(GOOD_1), cloudjudge.judge(GOOD_2)]
    assert decisions[1]["verdict"] == "approval_required"
    assert "\n" not in out(result).rstrip("\n").split("\n")[0]  # one compact line each
    problems = err(result).splitlines()
    assert problems[0].startswith("行 2: ")
    assert "JSON" in problems[0]
    assert problems[1].startswith("行 3: connection.breakout_usage: ")
    assert "sometimes" in problems[1]
    assert len(problems) == 2  # and no progress bar: stderr is not a terminal


def test_jsonl_from_stdin_and_all_good_exits_0():
    lines = jsonl(json.dumps(GOOD_2), "", json.dumps(GOOD_1))
    result = run("judge", "-f", "jsonl", "-", stdin=lines)
    assert result.returncode == 0, err(result)
    assert err(result) == ""
    decisions = [json.loads(line) for line in out(result).splitlines()]
    assert decisions == [cloudjudge.judge(GOOD_2), cloudjudge.judge(GOOD_1)]


def test_jsonl_reports_every_error_of_a_line_and_keeps_line_numbers():
    lines = (
        jsonl("[1, 2]", json.dumps({"data": {"confidentiality": "X"}}))
        .encode()
        .replace(b"[1, 2]", b"\xff\xfe")  # not UTF-8 at all
    ) + jsonl(json.dumps(GOOD_1)).encode()
    result = run("judge", "-f", "jsonl", "-", stdin=lines)
    assert result.returncode == 2
    assert len(out(result).splitlines()) == 1
    problems = err(result)
    assert "行 1: " in problems and "UTF-8" in problems
    for path in ("service", "data.confidentiality", "connection"):
        assert f"行 2: {path}: " in problems


def test_jsonl_streams_output_before_the_input_ends():
    """Decisions come out while stdin is still open: the input is not read whole."""
    proc = subprocess.Popen(
        [str(CLI), "judge", "-f", "jsonl", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        # Enough output to pass any stdout buffer, but stdin stays open.
        proc.stdin.write(jsonl(*[json.dumps(GOOD_1)] * 200).encode())
        proc.stdin.flush()
        selector = selectors.DefaultSelector()
        selector.register(proc.stdout, selectors.EVENT_READ)
        assert selector.select(timeout=30), "no output while the input was still open"
        first = json.loads(proc.stdout.readline())
        assert first == cloudjudge.judge(GOOD_1)
        assert proc.poll() is None
    finally:
        proc.stdin.close()
        proc.stdout.read()
        proc.wait(timeout=60)
    assert proc.returncode == 0


def test_broken_pipe_is_quiet(tmp_path: Path):
    path = tmp_path / "many.jsonl"
    path.write_text(jsonl(*[json.dumps(GOOD_1)] * 2000), encoding="utf-8")
    proc = subprocess.Popen(
        [str(CLI), "judge", "-f", "jsonl", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    stderr = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Traceback" not in stderr
    assert "BrokenPipe" not in stderr
    assert proc.returncode == 141


# --------------------------------------------------------------------------- catalog


def test_catalog_lists_every_item_under_a_heading():
    result = run("catalog")
    assert result.returncode == 0
    lines = out(result).splitlines()
    catalog = default_catalog()
    assert "クラウドサービス利用判断基準" in lines[0] and catalog.version in lines[0]
    rows = [line.split()[0] for line in lines[2:]]
    assert rows == [item.id for item in catalog.items]
    assert run("catalog", "list").stdout == result.stdout


def test_catalog_rows_show_id_clause_and_title():
    lines = out(run("catalog", "T1")).splitlines()
    row = next(line for line in lines if line.startswith("T1-07 "))
    assert row.split() == ["T1-07", "表1", "メール無害化/ファイル無害化"]


@pytest.mark.parametrize("prefix", ["SEL-F", "sel-f"])
def test_catalog_filters_by_id_prefix(prefix: str):
    for args in (("catalog", prefix), ("catalog", "list", prefix)):
        result = run(*args)
        assert result.returncode == 0
        rows = [line.split()[0] for line in out(result).splitlines()[2:]]
        assert rows == [f"SEL-F{n}" for n in range(1, 8)]


def test_catalog_prefix_matching_nothing_exits_2():
    result = run("catalog", "ZZ")
    assert (result.returncode, result.stdout) == (2, b"")
    assert "ZZ" in err(result)


def test_catalog_list_as_json():
    result = run("catalog", "S1", "--format", "json")
    body = json.loads(out(result))
    assert body["catalog"]["label"] == default_catalog().label
    assert [i["id"] for i in body["items"]] == [
        *(f"S1-{n:02d}" for n in range(1, 12)),
        "S1-11N",
        "S1-12",
        "S1-13",
    ]
    assert {i["party"] for i in body["items"]} == {"provider", "city", "both"}
    assert body["items"][0]["text"] == default_catalog().item("S1-01").text


def test_catalog_show_item_with_verbatim_text_and_columns():
    result = run("catalog", "show", "t1-07")
    assert result.returncode == 0
    text = out(result)
    item = default_catalog().item("T1-07")
    assert text.startswith("T1-07  メール無害化/ファイル無害化\n")
    assert item.text in text  # whole, unwrapped
    assert "条項          表1" in text
    assert "グループ      表1" in text
    assert "実施者        本市" in text  # 表1 is the city's network
    assert "A －  B ○  C ○" in text


def test_catalog_show_item_of_annex_names_its_clause():
    text = out(run("catalog", "show", "S1-12"))
    assert "条項          別紙1①  外部サービス共通" in text
    assert "区分          技術的セキュリティ" in text
    assert default_catalog().item("S1-12").text in text
    assert "表1 の列" not in text


@pytest.mark.parametrize("ref", ["3.1(1)(イ)", "3.1（1）（イ）"])
def test_catalog_show_clause(ref: str):
    result = run("catalog", "show", ref)
    assert result.returncode == 0, err(result)
    text = out(result)
    clause = default_catalog().clause("3.1(1)(イ)")
    assert text.startswith(f"3.1(1)(イ)  {clause.title}\n")
    assert clause.text in text
    for item_id in ("SU-1", "SU-2", "SU-3"):
        assert f"  {item_id}  " in text


def test_catalog_show_clause_prints_each_item_in_full_with_its_party():
    """Issue #9: a title can hide a condition; the clause view shows S2-14's whole text."""
    text = out(run("catalog", "show", "別紙1②"))
    flat = text.replace("\n", "").replace(" ", "")
    assert "(複数台でネットワークを組む際は)ファイアウォールを設置するなど" in flat
    assert "〔本市〕" in text


def test_catalog_show_unknown_id_exits_2_with_a_suggestion():
    result = run("catalog", "show", "T1-13")
    assert (result.returncode, result.stdout) == (2, b"")
    assert "T1-13" in err(result)
    assert "T1-12" in err(result)  # the nearest real ID


# --------------------------------------------------------------------------- the command itself


def test_version_names_package_and_criteria():
    result = run_installed("--version")
    assert result.returncode == 0
    assert cloudjudge.__version__ in out(result)
    assert default_catalog().label in out(result)


def test_help_lists_the_subcommands():
    text = out(run("--help"))
    for command in ("judge", "catalog", "serve", "manage"):
        assert command in text
    assert "catalog show" in out(run("catalog", "--help"))


def test_usage_errors_exit_2():
    assert run_installed().returncode == 2
    bad_format = run("judge", str(GROUPWARE), "--format", "xml")
    assert (bad_format.returncode, bad_format.stdout) == (2, b"")
    assert run("frobnicate").returncode == 2


# --------------------------------------------------------------------------- hostile input (#14)

HOSTILE_LINES = {
    "deep nesting": "[" * 1000 + "]" * 1000,
    "deep object": '{"service":' * 1000 + "1" + "}" * 1000,
    "huge integer": json.dumps(request(data={"confidentiality": "3B"})).replace('"3B"', "9" * 5000),
}


def test_jsonl_hostile_lines_are_reported_and_the_stream_goes_on():
    """Issue #14: nesting ~1,000 deep and integers over 4,300 digits are 「行 N: JSON として
    読めません」, the next lines are still judged, and the exit status is 2 at the end."""
    lines = [*HOSTILE_LINES.values(), json.dumps(GOOD_1)]
    result = run("judge", "-f", "jsonl", "-", stdin=jsonl(*lines))
    assert result.returncode == 2
    assert "Traceback" not in err(result)
    problems = err(result).splitlines()
    assert [p.split(":")[0] for p in problems] == ["行 1", "行 2", "行 3"]
    assert all("JSON として読めません" in p for p in problems)
    assert "入れ子が深すぎます" in problems[0] and "数値が大きすぎます" in problems[2]
    assert [json.loads(line) for line in out(result).splitlines()] == [cloudjudge.judge(GOOD_1)]


@pytest.mark.parametrize("case", HOSTILE_LINES, ids=str)
def test_hostile_request_files_exit_2_with_a_message(case: str, tmp_path: Path):
    """Issue #14: the same input as a single YAML / JSON file: exit 2, never a traceback."""
    path = tmp_path / "request.json"
    path.write_text(HOSTILE_LINES[case], encoding="utf-8")
    result = run("judge", str(path))
    assert (result.returncode, result.stdout) == (2, b"")
    assert "Traceback" not in err(result)
    assert "として読めません" in err(result)


def test_yaml_nested_too_deep_is_refused_before_it_is_built(tmp_path: Path):
    path = tmp_path / "deep.yaml"
    path.write_text("service:\n" + "".join("  " * n + "a:\n" for n in range(1, 200)))
    result = run("judge", str(path))
    assert result.returncode == 2 and "入れ子が深すぎます" in err(result)


def test_oversized_input_is_refused_without_reading_it_whole(tmp_path: Path):
    """A request is a few hundred bytes: a file, or a JSON line, over 1 MiB is refused."""
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (2 * 1024 * 1024))
    result = run("judge", str(path))
    assert result.returncode == 2 and "大きすぎます" in err(result)
    lines = b"x" * (3 * 1024 * 1024) + b"\n" + json.dumps(GOOD_1).encode() + b"\n"
    streamed = run("judge", "-f", "jsonl", "-", stdin=lines)
    assert streamed.returncode == 2
    assert err(streamed).startswith("行 1: 1 行が大きすぎます")
    assert len(out(streamed).splitlines()) == 1


@pytest.mark.parametrize("value", ["yes", "on", "1", 1, 0.0])
def test_booleans_are_strict_on_the_command_line(value: Any):
    """Issue #14: "yes", "on", "1", 1 and 0.0 are refused, naming the field."""
    data = request(data={"confidentiality": "3B", "my_number": value})
    result = run("judge", "-", stdin=json.dumps(data))
    assert result.returncode == 2
    assert "data.my_number: true または false を指定してください" in err(result)
