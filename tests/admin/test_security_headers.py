"""The Content-Security-Policy of the back office and the API docs, and pages that need no inline script."""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def policy(response) -> dict[str, list[str]]:
    directives = [part.strip().split() for part in response["Content-Security-Policy"].split(";") if part.strip()]
    return {name: values for name, *values in directives}


@pytest.mark.parametrize("url", ["/admin/login/", "/api/docs/"])
def test_the_login_page_and_the_api_docs_carry_a_policy_without_inline_script(url):
    response = Client().get(url)
    assert response.status_code == 200
    directives = policy(response)
    assert directives["script-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert not INLINE_SCRIPT.search(response.content.decode())


def test_the_api_docs_start_up_script_is_a_file_of_our_origin():
    page = Client().get("/api/docs/").content.decode()
    sources = re.findall(r'<script src="([^"]+)"', page)
    assert sources and all(source.startswith("/") for source in sources)
    script = Client().get(sources[-1])
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()


def test_the_dashboard_and_a_balance_page_need_no_inline_script(money_world, viewer_client):
    dashboard = viewer_client.get("/admin/")
    assert dashboard.status_code == 200 and "Content-Security-Policy" in dashboard
    balances = viewer_client.get("/admin/ledger/restaurantbalance/?q=res_a")
    link = re.search(r'href="(/admin/ledger/restaurantbalance/[^"]+/change/[^"]*)"', balances.content.decode())
    balance = viewer_client.get(link.group(1).replace("&amp;", "&"))
    assert balance.status_code == 200
    for page in (dashboard, balance):
        html = page.content.decode()
        assert not INLINE_SCRIPT.search(html)
        assert not INLINE_HANDLER.search(html)
