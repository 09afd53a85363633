"""Office packages are measured before they are read: bombs, broken archives,
DTDs; and the questionnaire reader refuses each with a Japanese message, in
seconds and in bounded memory (issue 14, "Hostile input")."""

from __future__ import annotations

import dataclasses
import io
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from cloudjudge.documents import QuestionnaireError, build_questionnaire, read_questionnaire
from cloudjudge.documents.packages import (
    MiB,
    PackageLimits,
    PackageRefused,
    inspect_package,
    size_text,
)
from cloudjudge.documents.questionnaire import ANSWER_SHEET
from support.bombs import (
    GiB,
    cell_bomb,
    measure,
    office_bomb,
    replace_part,
    rows_bomb,
    zip_of,
)

LIMITS = PackageLimits(max_unpacked=50 * MiB, max_members=100)


def _refused(data, limits=LIMITS) -> PackageRefused:
    with pytest.raises(PackageRefused) as caught:
        inspect_package(data, limits, what="ブック")
    return caught.value


@pytest.fixture(scope="session")
def bombs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bombs")
    return {
        "rows": rows_bomb(folder / "rows.xlsx"),
        "cell": cell_bomb(folder / "cell.xlsx"),
    }


def test_a_bomb_is_measured_from_the_directory_not_unpacked(bombs):
    for path in bombs.values():
        assert path.stat().st_size < 20 * MiB  # under every upload limit
        refused = _refused(path.read_bytes())
        assert refused.code in {"too_large", "member_too_large"}
        assert refused.size >= GiB
        assert "展開後" in refused.message and "上限 50 MB" in refused.message


def test_one_member_may_be_limited_on_its_own():
    data = zip_of({"a.xml": b"<a/>" * 1000, "b.xml": b"<b/>"})
    refused = _refused(data, PackageLimits(max_unpacked=10**6, max_member=1000))
    assert refused.code == "member_too_large" and "「a.xml」" in refused.message


def test_too_many_members_and_broken_archives_are_named():
    many = zip_of({f"{n}.xml": b"<a/>" for n in range(101)})
    assert "101 個、上限 100 個" in _refused(many).message
    assert _refused(b"PK\x03\x04" + b"\0" * 100).code == "broken"
    assert _refused(zip_of({"a.xml": b"<a/>"})[:-30]).code == "broken"  # cut short
    assert "zip 形式の構造" in _refused(b"not a zip").message


def test_a_document_type_declaration_is_an_xml_bomb_and_refused():
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><a>&lol2;</a>'
    )
    refused = _refused(zip_of({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": laughs}))
    assert refused.code == "dtd" and "「xl/workbook.xml」" in refused.message


def test_a_small_package_passes_and_says_what_it_holds():
    package = inspect_package(zip_of({"a.xml": b"<a/>", "b/c.rels": b"<r/>"}), LIMITS)
    assert package.names == {"a.xml", "b/c.rels"} and package.unpacked == 8


def test_sizes_read_as_people_write_them():
    assert [size_text(n) for n in (10, 5000, 52 * MiB, GiB)] == ["1 KB", "4 KB", "52 MB", "1.0 GB"]


# --------------------------------------------------------------------------- questionnaire


def _refusal(data, app) -> str:
    with pytest.raises(QuestionnaireError) as caught:
        read_questionnaire(data, app)
    return str(caught.value)


@pytest.mark.parametrize(
    ("part", "change"),
    [
        ("xl/worksheets/sheet2.xml", lambda b: b[: len(b) // 2]),  # cut short
        ("xl/worksheets/sheet2.xml", lambda b: b.replace(b"<row", b"<row <<", 1)),
        ("xl/worksheets/sheet1.xml", lambda b: b.replace(b"<sheetData>", b"<sheetData><a" * 3)),
        ("xl/workbook.xml", lambda b: b[:-40]),
        ("xl/styles.xml", lambda b: b[: len(b) // 3]),
    ],
)
def test_broken_sheet_xml_is_a_message_not_a_crash(make_questionnaire_request, part, change):
    app = make_questionnaire_request()
    message = _refusal(replace_part(build_questionnaire(app), part, change), app)
    assert "XML が壊れています" in message and "Error" in message  # what the parser found


def test_a_cell_far_below_is_refused_before_a_million_rows_are_walked(
    make_questionnaire_request,
):
    app = make_questionnaire_request()
    far = b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    data = replace_part(
        build_questionnaire(app),
        "xl/worksheets/sheet2.xml",
        lambda b: b.replace(b"</sheetData>", far + b"</sheetData>"),
    )
    message = _refusal(data, app)
    assert "1,048,576 行目まで" in message and "上限 5,000 行" in message


def test_a_cell_longer_than_excel_allows_is_named_and_nothing_is_read(
    make_questionnaire_request,
):
    """A crafted workbook (within the size cap) with a 200,000-character
    explanation: refused, naming the row and the column, never stored."""
    app = make_questionnaire_request()
    wb = load_workbook(io.BytesIO(build_questionnaire(app)))
    sheet = wb[ANSWER_SHEET]
    sheet.cell(2, 4).value = "対応可"
    sheet.cell(2, 5).value = "LONG-EXPLANATION"
    out = io.BytesIO()
    wb.save(out)
    # openpyxl and Excel cut a cell at 32,767 characters; a crafted file need not.
    data = replace_part(
        out.getvalue(),
        "xl/worksheets/sheet2.xml",  # openpyxl writes it inline
        lambda b: b.replace(b"LONG-EXPLANATION", b"x" * 200_000),
    )
    with pytest.raises(QuestionnaireError) as caught:
        read_questionnaire(data, app)
    (problem,) = [p for p in caught.value.problems if p.column == "E"]
    assert problem.row == 2 and "「説明」が 200,000 字あり" in problem.message
    assert "32,767 字" in problem.message


def test_a_wrong_workbook_stops_after_a_hundred_problems(make_questionnaire_request):
    app = make_questionnaire_request()
    many = b"".join(
        b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>X-%d</t></is></c></row>' % (r, r, r)
        for r in range(2, 400)
    )
    data = replace_part(
        build_questionnaire(app),
        "xl/worksheets/sheet2.xml",
        lambda b: (
            b[: b.index(b"<row", b.index(b"<sheetData>"))]
            + b'<row r="1">'
            + b"".join(
                b'<c r="%s1" t="inlineStr"><is><t>%s</t></is></c>' % (c.encode(), h.encode())
                for c, h in zip(
                    "ABCDEFG",
                    ("ID", "区分・条項", "要件", "回答", "説明", "根拠資料", "申請番号"),
                    strict=True,
                )
            )
            + b"</row>"
            + many
            + b"</sheetData>"
            + b.split(b"</sheetData>", 1)[1]
        ),
    )
    with pytest.raises(QuestionnaireError) as caught:
        read_questionnaire(data, app)
    problems = caught.value.problems
    assert len(problems) <= 101 + len(app.item_ids)
    assert any("100 件で読むのをやめました" in p.message for p in problems)


def test_a_questionnaire_bomb_is_refused_in_seconds_in_bounded_memory(
    bombs, make_questionnaire_request
):
    """The reader runs in a fresh process so its peak memory can be read."""
    app = make_questionnaire_request()
    request = dataclasses.asdict(app)
    measured = measure(
        """
        import json, sys
        from cloudjudge.documents import QuestionnaireError, QuestionnaireRequest
        from cloudjudge.documents import read_questionnaire
        spec = json.loads(sys.argv[2])
        spec["due_date"] = spec["issued_on"] = None
        app = QuestionnaireRequest(**spec)
        try:
            read_questionnaire(open(sys.argv[1], "rb").read(), app)
        except QuestionnaireError as exc:
            print(json.dumps({"refused": str(exc)}))
        """,
        str(bombs["rows"]),
        _json(request),
    )
    assert "展開後" in measured.result["refused"]
    assert measured.seconds < 20 and measured.peak_rss_mib < 300


def _json(value) -> str:
    import json

    return json.dumps(value, default=str, ensure_ascii=False)


def test_office_bombs_are_real():
    """The evidence bombs (used by the web tests) inflate to what they declare."""
    data = office_bomb("docx", unpacked=64 * MiB)
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        info = package.getinfo("word/document.xml")
        assert info.file_size > 64 * MiB - 100 and len(data) < MiB


# --------------------------------------------------------------------------- fuzzing questionnaires


@pytest.fixture(scope="module")
def questionnaire_bytes(make_questionnaire_request):
    app = make_questionnaire_request()
    return app, build_questionnaire(app)


FORMULA_CELL = b'<c r="D2" t="str"><f>HYPERLINK("http://x")</f><v>x</v></c>'

QUESTIONNAIRE_CRAFTED = {
    "truncated": lambda data: data[: len(data) // 3],
    "no directory": lambda data: data[:-22],
    "csv instead": lambda data: "ID,回答\r\nSEL-A1,対応可\r\n".encode("cp932"),
    "utf-16 text": lambda data: "ID,回答".encode("utf-16"),
    "deep xml": lambda data: replace_part(
        data,
        "xl/worksheets/sheet2.xml",
        lambda b: b.replace(b"<sheetData>", b"<sheetData>" + b"<a>" * 50_000 + b"</a>" * 50_000),
    ),
    "billion laughs": lambda data: replace_part(
        data,
        "xl/sharedStrings.xml" if b"sharedStrings" in data else "xl/styles.xml",
        lambda b: b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
    ),
    "bomb inside the upload cap": lambda data: zip_of(
        {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b" " * (12 * MiB)}
    ),
    "formula in an answer": lambda data: replace_part(
        data,
        "xl/worksheets/sheet2.xml",
        lambda b: b.replace(b'<c r="D2"', FORMULA_CELL + b'<c r="Z2"', 1),
    ),
}


#: Crafted files that are still the questionnaire: read as it is (openpyxl
#: passes over the unknown elements; nothing the vendor answered is lost).
READ_AS_IS = {"deep xml"}


@pytest.mark.parametrize("name", list(QUESTIONNAIRE_CRAFTED))
def test_crafted_questionnaires_are_refused_cleanly(questionnaire_bytes, name):
    app, data = questionnaire_bytes
    crafted = QUESTIONNAIRE_CRAFTED[name](data)
    if name in READ_AS_IS:
        assert read_questionnaire(crafted, app) == read_questionnaire(data, app)
        return
    with pytest.raises(QuestionnaireError) as caught:
        read_questionnaire(crafted, app)
    assert caught.value.problems and all(p.message for p in caught.value.problems)


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_fuzzed_questionnaires_are_read_or_refused(questionnaire_bytes, data):
    app, good = questionnaire_bytes
    raw = bytearray(good)
    for _ in range(data.draw(st.integers(1, 6))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    try:
        answers = read_questionnaire(bytes(raw), app)
    except QuestionnaireError as exc:
        assert exc.problems
    else:
        assert len(answers) == len(app.item_ids)
