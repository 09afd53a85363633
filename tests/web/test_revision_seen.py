"""What the people who work the register see of a criteria revision (issue
13), on the seeded register of ``test_rejudge`` and the example revision
(tests/fixtures/catalogs, test data):

- the application page says which version judged it and whether the newer
  one would judge it differently, in words (or that it would judge the same);
- a judgement made with the old version stays readable once the new one has
  been applied;
- applying tells the security office and the department by e-mail of the
  application whose verdict got worse;
- the progress of an unfinished apply on the page (a run the browser left, or
  a killed command), continued from there by the button;
- the terminal's progress bar, on a real pseudo-terminal;
- the diff page's counts, written as the terminal writes them (1,814,408).
"""

from __future__ import annotations

import csv
import fcntl
import io
import os
import re
import struct
import sys
import termios

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from cloudjudge.catalog.versions import find_catalog
from cloudjudge.web.register import rejudge, revision_views
from cloudjudge.web.register.models import Application, Judgement, RejudgeRun, Status

from . import test_rejudge as seeded

NEW = seeded.NEW
#: the seeded register and the installed revision, as in test_rejudge
revision, register = seeded.revision, seeded.register

pytestmark = pytest.mark.django_db
OLD = "sakai-cloud-usage-criteria@1.0"


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def judged_version(client, app) -> str:
    page = client.get(reverse("register:detail", args=[app.pk])).content.decode()
    found = re.search(r'<p class="small" id="judged-version">(.*?)</p>', page, re.S)
    assert found, "the page does not say which version judged it"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()


def test_the_page_says_the_version_and_what_the_newer_one_would_change(
    register, revision, login, security, make_application
):
    client = login(security)
    worse = judged_version(client, register["worse"])
    assert worse.startswith(f"判断基準 {OLD} で判定しました。")
    assert f"新しい版 {NEW} では判定が変わります: 承認が必要 → 禁止。" in worse
    assert "不要になる承認" not in worse  # a prohibited one is not approved at all
    # the verdict stays, the requirements change: said so, not 「判定が変わります」
    listed = judged_version(client, register["listed"])
    assert f"新しい版 {NEW} でも判定は同じ（利用可）ですが、求められることが変わります。" in listed
    assert "追加される対策: SEL-G3。" in listed and "不要になる対策: S1-10。" in listed
    assert "判定が変わります" not in listed
    assert "不要になる承認: 統括情報セキュリティ責任者" not in listed
    # 3A over the internet: prohibited by both versions, with the same requirements
    same = make_application(confidentiality="3A", method="internet_pc", breakout_usage="")
    assert same.verdict == "prohibited"
    assert f"新しい版 {NEW} でも判定は同じです。" in judged_version(client, same)


def test_without_a_newer_version_the_page_only_names_its_own(
    register, login, security, monkeypatch
):
    monkeypatch.delenv("CLOUDJUDGE_CATALOG_DIRS")
    assert judged_version(login(security), register["worse"]) == f"判断基準 {OLD} で判定しました。"


def test_applied_the_old_judgement_stays_readable_and_the_page_names_the_new(
    register, revision, settings, login, security
):
    settings.CLOUDJUDGE_CATALOG_VERSION = NEW
    old = register["worse"].latest_judgement
    rejudge.apply(revision, security)
    worse = Application.objects.get(pk=register["worse"].pk)
    assert worse.latest_judgement.criteria_version == NEW
    client = login(security)
    assert judged_version(client, worse) == f"判断基準 {NEW} で判定しました。"
    kept = text(client.get(reverse("register:judgement", args=[worse.pk, old.pk])))
    assert OLD in kept and "承認が必要" in kept
    assert "S1-10" in kept  # an item the new version removed still has its text here
    latest = reverse("register:judgement", args=[worse.pk, worse.latest_judgement.pk])
    new = text(client.get(latest))
    assert NEW in new and "禁止" in new


def test_applying_tells_the_office_and_the_department_of_the_worse_one(
    register,
    revision,
    settings,
    security,
    applicant,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    security.email, applicant.email = "security@city.example", "applicant@city.example"
    security.save()
    applicant.save()
    settings.CLOUDJUDGE_CATALOG_VERSION = NEW
    with django_capture_on_commit_callbacks(execute=True):
        rejudge.apply(revision, security)
    (mail,) = mailoutbox  # one application got worse; the others are not mailed
    assert sorted(mail.to) == ["applicant@city.example", "security@city.example"]
    assert register["worse"].number in mail.body
    assert "状態：見直しが必要（判定が変わりました）" in mail.body
    assert "承認が必要" in mail.body and "禁止" in mail.body


def test_an_unfinished_apply_shows_its_progress_and_the_button_continues_it(
    register, revision, settings, login, security
):
    settings.CLOUDJUDGE_CATALOG_VERSION = NEW
    # a run cut off after its first batch of one (a browser that left, a killed command)
    cut = rejudge.apply(revision, security, batch_size=1, max_batches=1)
    assert not cut.finished and (cut.done, cut.total) == (1, 3)
    client = login(security)
    url = f"{reverse('register:rejudge')}?version={NEW}"
    page = client.get(url).content.decode()
    progress = re.search(r'<section[^>]*id="rejudge-progress".*?</section>', page, re.S)
    assert progress, "no progress on the page"
    assert '<progress max="3" value="1">' in progress.group(0)
    assert "適用中" in progress.group(0) and "1 / 3" in progress.group(0)
    assert "適用を続ける" in page and 'id="rejudge-done"' not in page

    answer = client.post(reverse("register:rejudge_apply"), {"version": NEW}, follow=True)
    done = answer.content.decode()
    assert 'id="rejudge-progress"' not in done
    assert "見直しが必要へ 1 件" in text(answer)
    run = RejudgeRun.objects.get()
    assert run.pk == cut.pk and run.finished and run.done == 3
    assert Application.objects.get(pk=register["worse"].pk).status == Status.NEEDS_REVIEW
    # the application applied first was not judged a second time
    first = Application.objects.get(pk=cut.last_application_id)
    assert first.judgements.filter(criteria_version=NEW).count() == 1


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_the_command_draws_a_progress_bar_on_a_terminal(register, revision, settings, capsys):
    settings.CLOUDJUDGE_CATALOG_VERSION = NEW
    main, child = os.openpty()
    # a terminal 100 columns wide (a new pseudo-terminal has none, and tqdm fits the bar to it)
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    terminal = os.fdopen(child, "w", buffering=1, encoding="utf-8")
    saved = sys.stderr
    sys.stderr = terminal
    try:
        call_command("rejudge", "--version", NEW, "--dry-run")
        call_command("rejudge", "--version", NEW)
    finally:
        sys.stderr = saved
        terminal.close()
    drawn = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the terminal's other end is closed: all read
            break
        if not chunk:
            break
        drawn += chunk
    os.close(main)
    bar = drawn.decode("utf-8", "replace")
    assert "判定" in bar and "適用" in bar
    assert "3/3" in bar and "100%" in bar
    assert "\r" in bar  # redrawn in place, as a bar
    assert "3 件を判定し直しました" in capsys.readouterr().out
    assert Judgement.objects.filter(criteria_version=NEW).count() == 3


def test_the_page_gives_the_counts_as_the_terminal_does(revision, login, security):
    page = login(security).get(
        reverse("register:catalog_diff"), {"old": "1.0", "new": "1.1-example"}
    )
    html = page.content.decode()
    # the diff the page was made from (the view keeps it: computing it again costs seconds)
    diff = revision_views._diff(find_catalog("1.0"), find_catalog("1.1-example"))
    assert diff.new.label == NEW
    affected = re.search(r'<p id="affected">(.*?)</p>', html, re.S)
    assert affected, "no count on the page"
    assert f"{diff.affected:,}" in affected.group(1)
    assert f"{diff.combinations:,}" in affected.group(1)
    items = re.findall(r"<li(?: class=\"worse\")?>(.*?)</li>", html.split('class="effects"')[1])
    for effect, shown in zip(diff.effects, items, strict=False):
        assert shown == effect.summary


def test_the_report_exports_in_both_forms_from_the_page_and_the_command(
    register, revision, login, security, tmp_path
):
    """CSV and Excel, from the page and from ``rejudge --export``: the same rows."""
    client = login(security)
    csv_page = client.get(reverse("documents:rejudge_export", args=["csv"]), {"version": NEW})
    body = b"".join(csv_page.streaming_content) if csv_page.streaming else csv_page.content
    from_page_csv = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    xlsx_page = client.get(reverse("documents:rejudge_export", args=["xlsx"]), {"version": NEW})
    data = b"".join(xlsx_page.streaming_content) if xlsx_page.streaming else xlsx_page.content
    from_page_xlsx = [
        ["" if v is None else str(v) for v in row]
        for row in load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True)
    ]
    target = tmp_path / "report.xlsx"
    call_command("rejudge", "--version", NEW, "--dry-run", "--export", str(target))
    from_command = [
        ["" if v is None else str(v) for v in row]
        for row in load_workbook(target).active.iter_rows(values_only=True)
    ]
    assert from_page_csv[0][:2] == ["申請番号", "サービス名"] and len(from_page_csv) == 4
    assert from_page_csv == from_page_xlsx == from_command
    assert from_page_csv[1][0] == register["worse"].number
    assert from_page_csv[1][7] == "承認が必要 → 禁止"
