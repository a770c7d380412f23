"""Finance managers see the django-q2 schedules in the admin and pause them; only that."""

import pytest
from django.urls import reverse
from django_q.models import Schedule

from payouts.schedules import DAILY_RUN_TASK, LEDGER_CHECK_SCHEDULE

pytestmark = pytest.mark.django_db



def test_a_finance_manager_sees_the_schedules_and_pauses_one(manager_client):
    page = manager_client.get(reverse("admin:django_q_schedule_changelist")).content.decode()
    assert "payouts: daily run PEN" in page and LEDGER_CHECK_SCHEDULE in page
    pen = Schedule.objects.get(name="payouts: daily run PEN")
    response = manager_client.post(reverse("admin:django_q_schedule_changelist"),
                                   {"action": "pause", "_selected_action": [pen.pk]})
    assert response.status_code == 302
    pen.refresh_from_db()
    assert pen.repeats == 0
    assert ">paused<" in manager_client.get(reverse("admin:django_q_schedule_changelist")).content.decode()


def test_a_finance_manager_may_change_only_repeats_and_next_run(manager_client):
    pen = Schedule.objects.get(name="payouts: daily run PEN")
    url = reverse("admin:django_q_schedule_change", args=[pen.pk])
    page = manager_client.get(url).content.decode()
    assert 'name="repeats"' in page and 'name="next_run_0"' in page
    assert 'name="func"' not in page and 'name="args"' not in page
    manager_client.post(url, {"repeats": "0", "next_run_0": "2030-01-01", "next_run_1": "06:00:00",
                              "func": "os.system", "args": "'true'"})
    pen.refresh_from_db()
    assert (pen.func, pen.args, pen.repeats) == (DAILY_RUN_TASK, "'PEN'", 0)
    assert manager_client.get(reverse("admin:django_q_schedule_add")).status_code == 403


def test_a_finance_viewer_cannot_see_the_schedules(viewer_client):
    assert viewer_client.get(reverse("admin:django_q_schedule_changelist")).status_code == 403
