"""Appending to the chain, its canonical hashing, and the append-only rules."""

from __future__ import annotations

import datetime
import decimal
import hashlib
import itertools
import json
import uuid

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from cloudjudge.web.accounts.models import User
from cloudjudge.web.audit import chain, trail
from cloudjudge.web.audit.models import GENESIS_HASH, Action, AppendOnlyError, AuditEntry

from .helpers import row, run

pytestmark = pytest.mark.django_db


def test_entries_chain_and_verify(entries):
    made = entries(6)
    assert [e.sequence for e in made] == [1, 2, 3, 4, 5, 6]
    assert made[0].prev_hash == GENESIS_HASH
    for previous, entry in itertools.pairwise(made):
        assert entry.prev_hash == previous.hash
    assert len({e.hash for e in made}) == 6
    result = trail.verify_chain()
    assert result.ok and result.checked == 6 and result.first_broken is None
    assert (result.head_sequence, result.head_hash) == (6, made[-1].hash)


def test_an_empty_log_is_a_failure_not_an_intact_chain():
    """A wiped log (its head row too) must not pass as 「正常（0 件）」."""
    result = trail.verify_chain()
    assert not result.ok and result.checked == 0 and result.first_broken is None
    status, out, error = run("audit_verify")
    assert status == 1 and "正常" not in out
    assert "監査ログに記録が 1 件もありません" in error


def test_the_hash_is_sha256_of_the_documented_canonical_json(admin_user):
    entry = trail.record(
        Action.UPDATE,
        actor=admin_user,
        object_type="register.service",
        object_id=7,
        object_repr="クラウド型グループウェア",
        before={"b": 1, "a": "前"},
        after={"a": "後", "b": 2},
        extra={"z": None},
    )
    stored = row(entry.sequence)
    timestamp = stored["timestamp"].astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    content = {
        "v": 1,
        "sequence": 1,
        "timestamp": timestamp,
        "actor_username": admin_user.username,
        "action": "update",
        "source_ip": "",
        "object_type": "register.service",
        "object_id": "7",
        "object_repr": "クラウド型グループウェア",
        "before": {"a": "前", "b": 1},
        "after": {"a": "後", "b": 2},
        "extra": {"z": None},
        "prev_hash": GENESIS_HASH,
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert stored["hash"] == hashlib.sha256(text.encode("utf-8")).hexdigest() == entry.hash
    assert timestamp.endswith("Z") and len(timestamp.split(".")[1]) == 7  # 6 digits + Z


def test_values_that_databases_rewrite_still_verify():
    """jsonb prints 1e16 as an integer and refuses NUL: normalised before hashing."""
    trail.record(
        Action.SETTINGS_CHANGE,
        before={
            "big": 1e16,
            "whole": 3.0,
            "half": 0.5,
            "tiny": 1.5e-07,
            "nan": float("nan"),
            "nul": "a\x00b",
            "when": datetime.datetime(2026, 4, 1, 9, 30, tzinfo=datetime.UTC),
            "day": datetime.date(2026, 4, 1),
            "money": decimal.Decimal("12.30"),
            "id": uuid.UUID(int=5),
            "set": {3, 1, 2},
            1: "integer key",
        },
        after={"nested": [{"x": [1, 2.0, None, True]}], "text": "日本語\n改行"},
        object_repr="x\x00" * 200,
    )
    entry = AuditEntry.objects.get()
    assert entry.before["big"] == 10**16 and entry.before["whole"] == 3
    assert entry.before["nul"] == "a\ufffdb" and entry.before["nan"] == "nan"
    assert entry.before["set"] == [1, 2, 3] and entry.before["1"] == "integer key"
    assert entry.before["when"] == "2026-04-01T09:30:00.000000+00:00"
    assert len(entry.object_repr) == 255
    assert trail.verify_chain().ok


def test_record_takes_the_object_and_the_request(rf: RequestFactory, admin_user, department):
    request = rf.get("/", REMOTE_ADDR="192.0.2.10")
    request.user = admin_user
    entry = trail.record(
        Action.CREATE, request=request, obj=department, after=trail.snapshot(department)
    )
    assert entry.actor == admin_user and entry.actor_username == admin_user.username
    assert entry.source_ip == "192.0.2.10"
    assert (entry.object_type, entry.object_id, entry.object_repr) == (
        "accounts.department",
        str(department.pk),
        "市民課",
    )
    assert entry.after == {"id": department.pk, "code": "shimin", "name": "市民課"}


def test_an_anonymous_request_has_no_actor(rf):
    request = rf.get("/", REMOTE_ADDR="2001:DB8::1")
    request.user = AnonymousUser()
    entry = trail.record(Action.LOGIN_FAILED, request=request)
    assert entry.actor is None and entry.actor_username == ""
    assert entry.source_ip == "2001:db8::1"


def test_proxy_header_is_ignored_unless_configured(rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.9")
    assert trail.client_ip(request) == "10.0.0.2"
    settings.CLOUDJUDGE_AUDIT_PROXY_HEADER = "X-Forwarded-For"
    assert trail.client_ip(request) == "203.0.113.9"  # the address our proxy saw
    settings.CLOUDJUDGE_AUDIT_PROXY_COUNT = 2
    assert trail.client_ip(request) == "198.51.100.1"
    settings.CLOUDJUDGE_AUDIT_PROXY_COUNT = 3  # fewer hops than proxies: not trusted
    assert trail.client_ip(request) == "10.0.0.2"
    bad = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="<script>")
    settings.CLOUDJUDGE_AUDIT_PROXY_COUNT = 1
    assert trail.client_ip(bad) == "10.0.0.2"
    assert trail.client_ip(rf.get("/", REMOTE_ADDR="not-an-ip")) == ""


def test_unknown_actions_are_refused():
    with pytest.raises(ValueError):
        trail.record("format_disk")
    assert not AuditEntry.objects.exists()


def test_snapshot_and_changes(make_service):
    service = make_service(name="電子申請", listings=("lgwan_asp",))
    before = trail.snapshot(service, ["name", "listed_lgwan_asp", "listings", "created_at"])
    assert before["listings"] == ["lgwan_asp"]
    assert before["created_at"].endswith("+00:00")
    service.name = "電子申請サービス"
    service.listings = ("lgwan_asp", "ismap")
    after = trail.snapshot(service, ["name", "listed_lgwan_asp", "listings", "created_at"])
    diff = trail.changes(before, after)
    assert diff.before == {"name": "電子申請", "listings": ["lgwan_asp"]}
    assert diff.after == {"name": "電子申請サービス", "listings": ["lgwan_asp", "ismap"]}
    assert diff.fields == ["listings", "name"] and diff
    old, new = diff
    assert old == diff.before and new == diff.after
    assert not trail.changes(after, dict(after))
    assert trail.changes({"flag": True}, {"flag": 1})  # stored differently: a change
    assert trail.changes({"a": 1}, {"b": 2}) == ({"a": 1}, {"b": 2})


def test_snapshots_never_hold_secrets(auditor):
    values = trail.snapshot(auditor)
    assert "password" not in values and values["role"] == "auditor"
    assert values["department"] is None and values["username"] == auditor.username
    assert trail.snapshot(auditor, ["password", "username"])["password"] == trail.REDACTED
    assert trail.is_secret("token_hash") and trail.is_secret("key") and trail.is_secret("otp_seed")
    assert not trail.is_secret("keyword") and not trail.is_secret("status")


def test_snapshot_of_foreign_keys_uses_ids(make_application):
    application = make_application()
    values = trail.snapshot(application, ["service", "department", "status", "submitted_at"])
    assert values == {
        "service": application.service_id,
        "department": application.department_id,
        "status": "draft",
        "submitted_at": None,
    }


# --------------------------------------------------------------------------- append-only


def test_entries_cannot_be_updated_or_deleted_through_the_model(entries):
    first = entries(2)[0]
    first.object_repr = "changed"
    with pytest.raises(AppendOnlyError):
        first.save()
    with pytest.raises(AppendOnlyError):
        first.delete()
    loaded = AuditEntry.objects.get(sequence=1)
    with pytest.raises(AppendOnlyError):
        loaded.save()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(sequence=1).update(object_repr="changed")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.bulk_update([loaded], ["object_repr"])
    assert AuditEntry.objects.count() == 2
    assert AuditEntry.objects.get(sequence=1).object_repr == "CJ-2026-00001 グループウェア"
    assert trail.verify_chain().ok


def test_entries_cannot_be_written_around_the_chain():
    values = {"sequence": 1, "action": Action.LOGIN, "prev_hash": GENESIS_HASH, "hash": "x"}
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.create(**values)
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.bulk_create([AuditEntry(**values)])
    assert not AuditEntry.objects.exists()


def test_deleting_a_user_keeps_their_entries_and_the_chain(make_user):
    user = make_user("auditor")
    trail.record(Action.LOGIN, actor=user)
    user.delete()
    entry = AuditEntry.objects.get()
    assert entry.actor is None and entry.actor_username == user.username
    assert trail.verify_chain().ok
    assert not User.objects.filter(username=user.username).exists()


def test_the_chain_head_is_recreated_after_a_flush(entries):
    """A flushed test database (or the first write ever) has no head row yet."""
    from cloudjudge.web.audit.models import ChainHead

    ChainHead.objects.all().delete()
    assert trail.record(Action.LOGIN).sequence == 1
    assert ChainHead.objects.get().last_sequence == 1
    entries(2)
    assert trail.verify_chain().ok


def test_a_missing_chain_head_is_reported(entries):
    from cloudjudge.web.audit.models import ChainHead

    entries(3)
    ChainHead.objects.all().delete()
    result = chain.verify_chain()
    assert not result.ok and result.first_broken == 4
