"""The auditors' pages: who may read, search and paging, and the exports."""

from __future__ import annotations

import csv
import datetime
import io
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cloudjudge.web.accounts.models import Role
from cloudjudge.web.audit import chain, trail
from cloudjudge.web.audit.models import Action, AuditEntry

pytestmark = pytest.mark.django_db

LIST = reverse("audit:list")
CSV = reverse("audit:export_csv")
JSONL = reverse("audit:export_jsonl")


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def reader(login, auditor):
    """The auditor's browser; logging in is entry #1."""
    return login(auditor)


@pytest.fixture
def log(reader, make_user, department):
    """After the auditor's login (#1): two users' logins (#2, #3), an update
    with before/after (#4), an evidence upload (#5)."""
    alice = make_user(Role.APPLICANT, username="alice")
    bob = make_user(Role.SECURITY, username="bob")
    trail.record(Action.LOGIN, actor=alice)
    trail.record(Action.LOGIN, actor=bob)
    trail.record(
        Action.UPDATE,
        actor=alice,
        obj=department,
        before={"name": "市民課"},
        after={"name": "市民生活課"},
    )
    trail.record(
        Action.EVIDENCE_UPLOAD,
        actor=alice,
        object_type="register.evidence",
        object_id=12,
        object_repr='=HYPERLINK("http://evil")',
        extra={"sha256": "ab" * 32, "size": 1024},
    )
    return alice, bob


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.SECURITY, Role.CISO, Role.ADMIN])
def test_readers_see_the_log(role, make_user, login, log):
    page = login(make_user(role)).get(LIST)
    assert page.status_code == 200
    html = page.content.decode()
    assert "監査ログ" in html and "市民生活課" in html and "証跡のアップロード" in html


@pytest.mark.parametrize("url", [LIST, CSV, JSONL])
def test_applicants_get_403(url, login, applicant, log):
    client = login(applicant)
    before = AuditEntry.objects.exclude(action=Action.ACCESS_DENIED).count()
    assert client.get(url).status_code == 403
    # a refused export is no export, only the refusal is recorded
    assert AuditEntry.objects.exclude(action=Action.ACCESS_DENIED).count() == before
    refusal = AuditEntry.objects.get(action=Action.ACCESS_DENIED)
    assert refusal.actor_username == applicant.username
    assert refusal.extra["url"] == url and refusal.extra["method"] == "GET"


@pytest.mark.parametrize("url", [LIST, CSV, JSONL])
def test_anonymous_users_are_sent_to_the_login_page(url):
    response = Client().get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_an_inactive_reader_is_refused(make_user, login):
    auditor = make_user(Role.AUDITOR)
    client = login(auditor)
    auditor.is_active = False
    auditor.save()
    assert client.get(LIST).status_code in (302, 403)


def test_filters(reader, log):
    client = reader

    def sequences(**params):
        page = client.get(LIST, params)
        assert page.status_code == 200
        return [e.sequence for e in page.context["page"].object_list]

    everything = [5, 4, 3, 2, 1]
    assert sequences() == everything
    assert sequences(actor="ALICE") == [5, 4, 2]
    assert sequences(action="login") == [3, 2, 1]
    assert sequences(object_type="accounts.department") == [4]
    assert sequences(q="HYPERLINK") == [5]
    assert sequences(q="bob") == [3]
    today = timezone.localdate()
    assert sequences(since=today.isoformat(), until=today.isoformat()) == everything
    assert sequences(until=(today - datetime.timedelta(days=1)).isoformat()) == []
    assert sequences(action="not-an-action") == everything  # an invalid filter is ignored
    page = client.get(LIST, {"since": today.isoformat(), "until": "2000-01-01"})
    assert "終了日が開始日より前です。" in page.content.decode()


def test_pages(reader, settings, entries):
    settings.CLOUDJUDGE_AUDIT_PAGE_SIZE = 3
    entries(7)

    def page(number):
        response = reader.get(LIST, {"page": number})
        return [e.sequence for e in response.context["page"].object_list]

    assert (page(1), page(2), page(3)) == ([8, 7, 6], [5, 4, 3], [2, 1])
    assert "2 / 3 ページ" in reader.get(LIST, {"page": 2}).content.decode()


def test_csv_export_has_a_bom_japanese_headers_and_records_itself(reader, auditor, log):
    response = reader.get(CSV, REMOTE_ADDR="192.0.2.44")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-log-')
    raw = body(response)
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[0][:5] == ["連番", "日時（UTC）", "利用者", "操作", "操作コード"]
    assert table[0][5:9] == ["接続元 IP アドレス", "対象の種類", "対象 ID", "対象"]
    assert [r[0] for r in table[1:]] == ["1", "2", "3", "4", "5"]  # not the export's own entry
    update = table[4]
    assert update[3] == "更新" and update[4] == "update"
    assert json.loads(update[9]) == {"name": "市民課"} and json.loads(update[10]) == {
        "name": "市民生活課"
    }
    assert table[5][8] == '\'=HYPERLINK("http://evil")'  # not a formula in Excel
    assert table[1][1].endswith("Z")
    export = AuditEntry.objects.get(action=Action.EXPORT)
    assert export.actor == auditor and export.source_ip == "192.0.2.44"
    assert export.extra == {"format": "csv", "filters": {}}
    assert trail.verify_chain().ok


def test_csv_export_honours_the_filters(reader, log):
    response = reader.get(CSV, {"actor": "alice", "action": "login", "page": "2"})
    rows = list(csv.reader(io.StringIO(body(response).decode("utf-8-sig"))))[1:]
    assert [(r[0], r[2], r[4]) for r in rows] == [("2", "alice", "login")]
    export = AuditEntry.objects.get(action=Action.EXPORT)
    assert export.extra["filters"] == {"actor": "alice", "action": "login"}


def test_jsonl_export_can_be_checked_outside_cloudjudge(reader, log):
    response = reader.get(JSONL, {"since": timezone.localdate().isoformat()})
    assert response["Content-Type"].startswith("application/jsonl")
    lines = [json.loads(line) for line in body(response).decode("utf-8").splitlines()]
    assert [line["sequence"] for line in lines] == [1, 2, 3, 4, 5]
    previous = "0" * 64
    for line in lines:
        content = {key: value for key, value in line.items() if key != "hash"}
        assert chain.hash_content(content) == line["hash"]
        assert line["prev_hash"] == previous
        previous = line["hash"]
    assert lines[3]["after"] == {"name": "市民生活課"}
    export = AuditEntry.objects.get(action=Action.EXPORT)
    assert export.extra["format"] == "jsonl"
    assert export.extra["filters"] == {"since": timezone.localdate().isoformat()}


def test_the_export_language_follows_the_user(reader, log):
    client = reader
    client.cookies["django_language"] = "en"
    table = list(csv.reader(io.StringIO(body(client.get(CSV)).decode("utf-8-sig"))))
    assert table[0][:4] == ["Sequence", "Time (UTC)", "Username", "Action"]
    assert table[4][3] == "Update"
