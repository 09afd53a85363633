"""The registry pages: who may see and change what, uploading with the diff or
the file's problems, the template download, editing (audited), filters, and
the dashboard's alerts with a fixed number of queries."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from cloudjudge.web.audit.models import AuditEntry
from cloudjudge.web.registries.models import RegistryEntry, RegistryLink, RegistrySnapshot

from .conftest import ismap_csv


def upload(client, kind, path_or_bytes, name=None):
    data = path_or_bytes.read_bytes() if hasattr(path_or_bytes, "read_bytes") else path_or_bytes
    name = name or getattr(path_or_bytes, "name", "list.csv")
    return client.post(
        "/registries/import/", {"kind": kind, "file": SimpleUploadedFile(name, data)}, follow=True
    )


@pytest.mark.parametrize(
    ("role", "read", "write"),
    [
        ("security", 200, 200),
        ("ciso", 200, 403),
        ("auditor", 200, 403),
        ("admin", 200, 403),
        ("applicant", 403, 403),
    ],
)
def test_who_may_see_and_change(make_user, login, load, fixture_path, role, read, write):
    load("ismap", fixture_path("ismap_list.xlsx"))
    entry = RegistryEntry.objects.first()
    snapshot = RegistrySnapshot.objects.get()
    client = login(make_user(role))
    for url in [
        "/registries/",
        f"/registries/entries/{entry.pk}/",
        "/registries/snapshots/",
        f"/registries/snapshots/{snapshot.pk}/",
        "/registries/check/",
        "/registries/template/ismap.xlsx",
    ]:
        assert client.get(url).status_code == read, url
    for url in [
        "/registries/import/",
        f"/registries/entries/{entry.pk}/edit/",
        "/registries/entries/new/",
    ]:
        assert client.get(url).status_code == write, url
    before = RegistrySnapshot.objects.count()
    response = client.post(
        "/registries/import/",
        {"kind": "ismap", "file": SimpleUploadedFile("x.xlsx", b"x")},
    )
    assert response.status_code in (200, 403) and (response.status_code == 403) == (write == 403)
    assert RegistrySnapshot.objects.count() == before


def test_upload_shows_the_diff_then_refuses_the_same_file(login, security, fixture_path):
    client = login(security)
    response = upload(client, "ismap", fixture_path("ismap_list.xlsx"))
    page = response.content.decode()
    assert response.redirect_chain[-1][0].startswith("/registries/snapshots/")
    assert "ISMAP の登録簿を取り込みました（追加 6 件、削除 0 件、変更 0 件）" in page
    assert "C21-0101-1" in page and "さくらぎクラウド基盤" in page
    again = upload(client, "ismap", fixture_path("ismap_list.xlsx")).content.decode()
    assert "同じファイルは取り込み済みです" in again
    assert RegistrySnapshot.objects.count() == 1


def test_upload_of_a_broken_file_lists_every_problem_and_writes_nothing(
    login, security, fixture_path
):
    client = login(security)
    upload(client, "ismap", fixture_path("ismap_list.xlsx"))
    entries_before = list(RegistryEntry.objects.values_list("pk", "updated_at"))
    audit_before = AuditEntry.objects.count()
    response = upload(client, "ismap", fixture_path("broken_many.xlsx"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "取り込めませんでした（5 件の問題）" in page
    # every problem with sheet, row and column
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td>", page)
    assert ("一覧", "3", "クラウドサービスの名称") in rows
    assert ("一覧", "5", "登録番号") in rows
    assert ("一覧", "7", "URL") in rows
    assert (
        "javascript:alert(1)" in page
        and "<script" not in page.split("</main>")[0].split("<main")[1]
    )
    assert list(RegistryEntry.objects.values_list("pk", "updated_at")) == entries_before
    assert RegistrySnapshot.objects.filter(is_current=True).get().source_name == "ismap_list.xlsx"
    assert AuditEntry.objects.count() == audit_before


def test_template_download_is_the_kinds_template(login, security):
    for kind, heading in [("ismap", "登録番号"), ("lgwan_asp", "サービスコード")]:
        response = login(security).get(f"/registries/template/{kind}.xlsx")
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        assert f"registry-template-{kind}.xlsx" in response["Content-Disposition"]
        workbook = load_workbook(io.BytesIO(response.content))
        assert workbook.worksheets[0].cell(1, 1).value == heading
    assert login(security).get("/registries/template/other.xlsx").status_code == 404


def test_editing_an_entry_is_audited_and_recomputes_expiry(login, security, load, today):
    load("ismap", ismap_csv(("C21-0001-1", "試験クラウド", "株式会社試験", today, 0, 0)))
    entry = RegistryEntry.objects.get()
    client = login(security)
    form = client.get(f"/registries/entries/{entry.pk}/edit/").context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None and k not in ("kind", "number")}
    data.update(
        audit_period_end="2024-03-31",
        renewal_pending="on",
        last_checked_on=today.isoformat(),
        regions_text="東京、大阪",
        registered_on="",
        source_url="https://example.jp/x",
        number="C99-9999-9",  # disabled: ignored
    )
    response = client.post(f"/registries/entries/{entry.pk}/edit/", data)
    assert response.status_code == 302, response.context["form"].errors
    entry.refresh_from_db()
    assert entry.number == "C21-0001-1"
    assert str(entry.expires_on) == "2025-07-31" and entry.renewal_pending
    assert entry.regions == ["東京", "大阪"] and entry.updated_by == security
    audit = AuditEntry.objects.filter(object_type="registries.registryentry").get()
    assert audit.action == "update" and audit.actor == security
    assert audit.before["expires_on"] != audit.after["expires_on"] == "2025-07-31"
    assert audit.after["renewal_pending"] is True and "last_checked_on" in audit.after


def test_an_ismap_entry_needs_its_audit_period_end(login, security):
    client = login(security)
    response = client.post(
        "/registries/entries/new/",
        {"kind": "ismap", "number": "C21-0009-1", "service_name": "x", "provider": "y"},
    )
    assert response.status_code == 200
    assert "監査対象期間の末日が必要です" in response.content.decode()
    response = client.post(
        "/registries/entries/new/",
        {"kind": "lgwan_asp", "number": "ａ１２３", "service_name": "x", "provider": "y"},
    )
    assert response.status_code == 302
    created = RegistryEntry.objects.get()
    assert created.number == "A123" and created.snapshot is None and created.expires_on is None
    assert AuditEntry.objects.filter(
        object_type="registries.registryentry", action="create"
    ).exists()


def test_list_search_and_status_filter(login, security, load, fixture_path):
    load("ismap", fixture_path("ismap_list.xlsx"))
    client = login(security)

    def numbers(query):
        page = client.get("/registries/" + query).context["page"]
        return [e.number for e in page.object_list]

    assert len(numbers("")) == 6
    assert numbers("?status=withdrawn") == ["C23-0404-1"]
    assert numbers("?status=renewal_pending") == ["C22-0303-2"]  # past expiry (the fixture is old)
    assert numbers("?q=ＡＢＣ") == ["C22-0202-1"]  # full-width search matches
    assert numbers("?q=abcドライブ") == ["C22-0202-1"]
    assert numbers("?q=c21-0101") == ["C21-0101-1"]
    assert numbers("?kind=lgwan_asp") == []


def test_recording_a_services_number(login, security, auditor, make_service, load, fixture_path):
    load("ismap", fixture_path("ismap_list.xlsx"))
    service = make_service(name="社内の呼び名", provider="どこか")
    page = login(auditor).get(f"/registries/services/{service.pk}/").content.decode()
    assert "登録簿に該当なし" in page
    assert (
        login(auditor).post(f"/registries/services/{service.pk}/", {"ismap": "X"}).status_code
        == 403
    )
    response = login(security).post(
        f"/registries/services/{service.pk}/",
        {"ismap": "c21-0101-1", "ismap_liu": "", "lgwan_asp": ""},
    )
    assert response.status_code == 302
    assert RegistryLink.objects.get(service=service).number == "C21-0101-1"
    assert AuditEntry.objects.filter(object_type="registries.registrylink").count() == 1
    page = login(security).get(f"/registries/services/{service.pk}/").content.decode()
    assert "C21-0101-1 さくらぎクラウド基盤" in page
    # the entry page lists the service as linked by number
    entry = RegistryEntry.objects.get(number="C21-0101-1")
    page = login(security).get(f"/registries/entries/{entry.pk}/").content.decode()
    assert "社内の呼び名" in page and "登録番号で照合" in page


def test_rejudge_is_for_the_security_office(login, security, ciso, make_application):
    app = make_application()
    assert login(ciso).post(f"/registries/applications/{app.pk}/rejudge/").status_code == 403
    response = login(security).post(f"/registries/applications/{app.pk}/rejudge/")
    assert response.status_code == 302 and response["Location"] == f"/applications/{app.pk}/"


def test_navigation_shows_the_registry_to_its_readers(login, security, applicant):
    assert 'href="/registries/"' in login(security).get("/").content.decode()
    assert 'href="/registries/"' not in login(applicant).get("/").content.decode()


def test_dashboard_queries_do_not_grow_with_alerts(
    login, load, security, applicant, make_service, make_application, put_in_use, today
):
    load("ismap", ismap_csv(("C21-0001-1", "別のサービス", "株式会社別", today, 0, 1)))
    client = login(security)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/")
        assert response.status_code == 200
        return len(ctx.captured_queries), response

    put_in_use(make_application(confidentiality="2", method="internet_pc"), applicant, security)
    few, response = count()
    assert response.context["registry_alerts"].count == 1
    for _ in range(5):
        put_in_use(make_application(confidentiality="2", method="internet_pc"), applicant, security)
    many, response = count()
    assert many == few
    assert response.context["registry_alerts"].count == 6
    assert "登録簿の掲載に注意が必要な利用中サービス（6 件）" in response.content.decode()
