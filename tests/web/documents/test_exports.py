"""Exports: the register as CSV and Excel (the list page's filters, only what
the user may see) and an application's checklist as Excel."""

import csv
import datetime
import io
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from cloudjudge.web.audit.models import Action as AuditAction
from cloudjudge.web.audit.models import AuditEntry
from cloudjudge.web.documents import exports
from cloudjudge.web.register import checklist, evidence, workflow
from cloudjudge.web.register.models import ItemStatus
from cloudjudge.web.register.workflow import Step

pytestmark = pytest.mark.django_db

CSV_URL = reverse("documents:export_csv")
XLSX_URL = reverse("documents:export_xlsx")
HEADINGS = [c.heading for c in exports.REGISTER_COLUMNS]


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.streaming, "the CSV is streamed"
    content = b"".join(response.streaming_content)
    assert content.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM for Excel"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def workbook_rows(response) -> tuple[object, list[tuple]]:
    assert response.status_code == 200
    assert response["Content-Type"] == exports_xlsx_type()
    sheet = load_workbook(io.BytesIO(response.content)).active
    return sheet, list(sheet.iter_rows(values_only=True))


def exports_xlsx_type() -> str:
    return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def numbers(rows) -> list[str]:
    return [row[0] for row in rows[1:]]


# --------------------------------------------------------------------------- CSV


def test_csv_is_utf8_with_bom_japanese_headings_and_a_japanese_file_name(
    login, make_application, applicant
):
    app = make_application()
    response = login(applicant).get(CSV_URL)
    rows = csv_rows(response)
    assert rows[0] == HEADINGS
    assert rows[0][:4] == ["申請番号", "サービス名", "提供事業者", "所管課"]
    row = dict(zip(HEADINGS, rows[1], strict=True))
    assert row["申請番号"] == app.number
    assert row["サービス名"] == app.service.name
    assert row["所管課"] == "市民課"
    assert row["申請者"] == "申請 花子"
    assert row["機密性"] == "3B（重要）"
    assert row["判定"] == "利用可"
    assert row["状態"] == "下書き・申請者"  # the one status line
    assert row["CISO 承認要否"] == "いいえ"
    total = app.checklist_items.filter(active=True).count()
    assert (row["チェックリスト対応済"], row["チェックリスト項目数"]) == ("0", str(total))
    assert row["申請日"] == ""
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    disposition = response["Content-Disposition"]
    stamp = timezone.localdate().strftime("%Y%m%d")
    assert disposition.startswith(f'attachment; filename="cloud-service-register_{stamp}.csv"; ')
    assert f"filename*=UTF-8''{quote(f'クラウドサービス台帳_{stamp}.csv')}" in disposition


def test_csv_honours_the_register_list_filters(login, make_application, applicant, security):
    a = make_application(confidentiality="3C", method="lgwan_asp", breakout_usage="")
    b = make_application(confidentiality="3A")
    c = make_application(confidentiality="2", purpose="電子契約の締結")
    workflow.perform(c, Step.SUBMIT, applicant)
    client = login(security)

    def exported(query):
        return numbers(csv_rows(client.get(CSV_URL + query)))

    def listed(query):
        return [app.number for app in client.get("/applications/" + query).context["page"]]

    assert exported("?verdict=prohibited") == [b.number]
    assert exported("?status=submitted") == [c.number]
    assert exported("?method=lgwan_asp") == [a.number]
    assert exported("?confidentiality=2") == [c.number]
    assert exported("?q=電子契約") == [c.number]
    assert exported("?sort=number") == [a.number, b.number, c.number]
    assert exported("?sort=-number&page=3") == [c.number, b.number, a.number]
    for query in ("", "?sort=-number", "?department=1&sort=service", "?verdict=nonsense"):
        assert exported(query) == listed(query), query
    submitted = dict(
        zip(HEADINGS, csv_rows(client.get(CSV_URL + "?status=submitted"))[1], strict=True)
    )
    assert submitted["状態"] == "申請中・セキュリティ担当の確認待ち"
    assert submitted["申請日"] == timezone.localdate().isoformat()


def test_an_applicant_exports_only_their_departments_rows(
    login, make_application, applicant, outsider, other_department
):
    own = make_application()
    make_application(user=outsider)
    client = login(applicant)
    assert numbers(csv_rows(client.get(CSV_URL))) == [own.number]
    # Asking for the other department is an invalid filter, ignored: still only their own.
    query = f"?department={other_department.pk}"
    assert numbers(csv_rows(client.get(CSV_URL + query))) == [own.number]
    _, rows = workbook_rows(client.get(XLSX_URL + query))
    assert numbers(rows) == [own.number]


def test_exports_need_a_login(client):
    for url in (CSV_URL, XLSX_URL):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login" in response["Location"]


def test_csv_and_excel_defuse_formulas(login, make_application, make_service, applicant):
    service = make_service(name='=HYPERLINK("http://evil.example","x")', provider="+81-3")
    make_application(service=service, purpose="@SUM(A1)\x07ベル")
    row = csv_rows(login(applicant).get(CSV_URL))[1]
    assert row[1] == '\'=HYPERLINK("http://evil.example","x")'
    assert row[2] == "'+81-3"
    assert row[5] == "'@SUM(A1)\x07ベル"
    sheet, rows = workbook_rows(login(applicant).get(XLSX_URL))
    assert rows[1][1] == service.name and sheet.cell(2, 2).data_type == "s"
    assert sheet.cell(2, 2).quotePrefix and sheet.cell(2, 3).quotePrefix  # stays text when edited
    assert rows[1][5] == "@SUM(A1)ベル"  # control characters Excel cannot hold are dropped


def test_export_queries_do_not_grow_with_rows(login, make_application, applicant, security):
    def count(url, n):
        for _ in range(n):
            make_application()
        client = login(security)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
            if response.streaming:
                b"".join(response.streaming_content)
        assert response.status_code == 200
        return len(ctx.captured_queries)

    for url in (CSV_URL, XLSX_URL):
        assert count(url, 2) == count(url, 12), url


# --------------------------------------------------------------------------- Excel


def test_the_register_as_an_excel_workbook(login, make_application, applicant, security):
    a = make_application()
    b = make_application(confidentiality="3A")
    workflow.perform(a, Step.SUBMIT, applicant)
    sheet, rows = workbook_rows(login(security).get(XLSX_URL + "?sort=number"))
    assert list(rows[0]) == HEADINGS
    assert numbers(rows) == [a.number, b.number]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:T3"
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.column_dimensions["B"].width == 30
    row = dict(zip(HEADINGS, rows[1], strict=True))
    assert row["状態"] == "申請中・セキュリティ担当の確認待ち" and row["判定"] == "利用可"
    assert row["申請日"] == datetime.datetime.combine(timezone.localdate(), datetime.time())
    assert sheet.cell(2, HEADINGS.index("申請日") + 1).number_format == "yyyy-mm-dd"
    assert isinstance(row["最終更新"], datetime.datetime)
    assert isinstance(row["チェックリスト項目数"], int)
    assert dict(zip(HEADINGS, rows[2], strict=True))["判定"] == "禁止"
    disposition = login(security).get(XLSX_URL)["Content-Disposition"]
    assert ".xlsx\"; filename*=UTF-8''" in disposition
    assert quote("クラウドサービス台帳_") in disposition


def assert_print_ready(sheet) -> None:
    """A4 landscape, fitted to one page wide, the heading row on every printed page."""
    assert sheet.page_setup.orientation == "landscape"
    assert int(sheet.page_setup.paperSize) == int(sheet.PAPERSIZE_A4)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
    assert sheet.print_title_rows == "$1:$1"


def test_excel_exports_are_set_up_for_printing(login, make_application, applicant, security):
    app = make_application()
    sheet, _ = workbook_rows(login(security).get(XLSX_URL))
    assert_print_ready(sheet)
    url = reverse("documents:checklist_xlsx", args=[app.pk])
    sheet, _ = workbook_rows(login(applicant).get(url))
    assert_print_ready(sheet)


def test_csv_in_shift_jis(login, make_application, make_service, applicant, security):
    app = make_application(service=make_service(name="髙橋システム電子申請～ＡＢＣ①"))
    response = login(security).get(CSV_URL, {"encoding": "cp932", "sort": "number"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=shift_jis"
    assert not response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("cp932"), newline="")))
    assert rows[0] == HEADINGS
    row = dict(zip(HEADINGS, rows[1], strict=True))
    assert row["申請番号"] == app.number
    assert row["サービス名"] == "髙橋システム電子申請～ＡＢＣ①"
    assert b"\r\n" in response.content
    entry = AuditEntry.objects.filter(action=AuditAction.EXPORT).latest("pk")
    assert entry.extra["encoding"] == "cp932"


def test_a_character_shift_jis_cannot_hold_is_reported_not_replaced(
    login, make_application, make_service, applicant, security
):
    make_application(service=make_service(name="普通のサービス"))
    bad = make_application(service=make_service(name="𠮷野クラウド"), purpose="絵文字😀入り")
    exports_before = AuditEntry.objects.filter(action=AuditAction.EXPORT).count()
    response = login(security).get(CSV_URL, {"encoding": "cp932", "sort": "number"}, follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("register:list"))
    page = response.content.decode()
    assert "Shift_JIS（CP932）の CSV は作成しませんでした" in page
    assert f"3 行目（{bad.number}）の「サービス名」: 「𠮷」（U+20BB7）" in page
    assert f"3 行目（{bad.number}）の「利用目的」: 「😀」（U+1F600）" in page
    assert AuditEntry.objects.filter(action=AuditAction.EXPORT).count() == exports_before
    # The UTF-8 CSV carries every character.
    rows = csv_rows(login(security).get(CSV_URL, {"sort": "number"}))
    assert "𠮷野クラウド" in {row[1] for row in rows}


def test_the_cp932_builder_lists_every_bad_cell_and_writes_nothing():
    columns = exports.REGISTER_COLUMNS[:2]
    rows = [["A-1", "Café"], ["A-2", "良い"], ["A-3", "💾"]]
    with pytest.raises(exports.UnencodableError) as excinfo:
        exports.cp932_csv_bytes(columns, rows)
    assert [str(p) for p in excinfo.value.problems] == [
        "2 行目（A-1）の「サービス名」: 「é」（U+00E9）は Shift_JIS（CP932）で表せません",
        "4 行目（A-3）の「サービス名」: 「💾」（U+1F4BE）は Shift_JIS（CP932）で表せません",
    ]
    assert exports.cp932_csv_bytes(columns, [["A-2", "良い"]]).decode("cp932") == (
        "申請番号,サービス名\r\nA-2,良い\r\n"
    )


def test_an_empty_register_is_a_workbook_with_headings_only(login, security):
    sheet, rows = workbook_rows(login(security).get(XLSX_URL))
    assert rows == [tuple(HEADINGS)]
    assert sheet.auto_filter.ref == "A1:T1"


def test_an_applications_checklist_as_excel(login, make_application, applicant, colleague):
    app = make_application()
    items = list(app.checklist_items.filter(active=True).order_by("position"))
    first = items[0]
    checklist.update_item(
        first,
        applicant,
        status=ItemStatus.IN_PROGRESS,
        owner=colleague,
        due_date=datetime.date(2030, 4, 1),
        note="業者に確認中",
    )
    for name in ("確認書.txt", "SLA.csv"):
        upload = SimpleUploadedFile(name, "項目,値\nSLA,99.9\n".encode())
        evidence.store(app, upload, applicant, checklist_item=first)
    url = reverse("documents:checklist_xlsx", args=[app.pk])
    response = login(applicant).get(url)
    sheet, rows = workbook_rows(response)
    assert sheet.title == app.number
    headings = [c.heading for c in exports.CHECKLIST_COLUMNS]
    assert list(rows[0]) == headings
    assert headings[:5] == ["ID", "条項", "対策", "理由", "状態"]
    assert [row[0] for row in rows[1:]] == [item.item_id for item in items]
    row = dict(zip(headings, rows[1], strict=True))
    assert (row["ID"], row["条項"], row["対策"]) == (first.item_id, first.clause, first.title)
    assert row["理由"] == first.reason
    assert row["状態"] == "対応中"
    assert row["担当者"] == colleague.display_name
    assert row["期限"] == datetime.datetime(2030, 4, 1)
    assert row["備考"] == "業者に確認中"
    assert row["証跡ファイル"] == "確認書.txt\nSLA.csv"
    assert dict(zip(headings, rows[2], strict=True))["状態"] == "未対応"
    assert sheet.freeze_panes == "A2"
    disposition = response["Content-Disposition"]
    assert f'filename="checklist_{app.number}.xlsx"' in disposition
    assert quote(f"チェックリスト_{app.number}.xlsx") in disposition


def test_the_checklist_export_is_permission_checked(
    login, make_application, outsider, security, auditor, applicant
):
    app = make_application()
    url = reverse("documents:checklist_xlsx", args=[app.pk])
    assert login(outsider).get(url).status_code == 404
    assert login(security).get(url).status_code == 200
    assert login(auditor).get(url).status_code == 200
    assert login(applicant).get(reverse("documents:checklist_xlsx", args=[9999])).status_code == 404


# --------------------------------------------------------------------------- the pages


def test_the_list_and_detail_pages_link_to_the_exports(login, make_application, applicant):
    app = make_application()
    client = login(applicant)
    page = client.get("/applications/?status=draft&page=1").content.decode()
    assert f'href="{CSV_URL}?status=draft"' in page
    assert f'href="{XLSX_URL}?status=draft"' in page
    assert "CSV 出力" in page and "Excel 出力" in page
    detail = client.get(reverse("register:detail", args=[app.pk])).content.decode()
    assert reverse("documents:checklist_xlsx", args=[app.pk]) in detail
    assert "チェックリスト Excel" in detail


# --------------------------------------------------------------------------- builders


def test_content_disposition_has_an_ascii_fallback_and_the_utf8_name():
    value = exports.content_disposition("台帳 2026.csv", 'register "2026".csv')
    assert value == (
        'attachment; filename="register _2026_.csv"; '
        "filename*=UTF-8''%E5%8F%B0%E5%B8%B3%202026.csv"
    )


def test_csv_builder_writes_dates_and_empty_cells():
    columns = [exports.Column("日付", 10), exports.Column("日時", 10), exports.Column("数", 5)]
    rows = [[datetime.date(2026, 4, 1), datetime.datetime(2026, 4, 1, 9, 30), None]]
    assert exports.csv_bytes(columns, rows) == (
        "\ufeff日付,日時,数\r\n2026-04-01,2026-04-01 09:30,\r\n".encode()
    )


def test_every_export_is_recorded_in_the_audit_trail(login, make_application, applicant):
    """別紙1① No.6: who took which data out, with the filters they used."""
    app = make_application()
    client = login(applicant)
    b"".join(client.get(CSV_URL, {"status": "draft"}).streaming_content)
    client.get(XLSX_URL)
    client.get(reverse("documents:checklist_xlsx", args=[app.pk]))

    exported = AuditEntry.objects.filter(action=AuditAction.EXPORT).order_by("sequence")
    assert [e.extra["kind"] for e in exported] == [
        "register_csv",
        "register_xlsx",
        "checklist_xlsx",
    ]
    assert all(e.actor_username == applicant.username for e in exported)
    assert exported[0].extra["filters"] == {"status": "draft"}
    assert exported[2].object_id == str(app.pk)
