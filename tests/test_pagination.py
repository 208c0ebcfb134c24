"""The shared pagination links keep the page's filters and change only the page number."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.template.loader import render_to_string
from django.test import RequestFactory


def _links(path: str, number: int) -> str:
    request = RequestFactory().get(path)
    page = Paginator(list(range(100)), 10).get_page(number)
    return render_to_string("_pagination.html", {"page": page}, request=request)


def test_the_page_links_keep_every_filter_and_replace_the_page() -> None:
    html = _links("/o/riverbend/alerts/?area=claims&severity=critical&page=3", 3)
    assert 'href="?area=claims&amp;severity=critical&amp;page=2" rel="prev"' in html
    assert 'href="?area=claims&amp;severity=critical&amp;page=4" rel="next"' in html


def test_without_filters_the_links_carry_only_the_page() -> None:
    html = _links("/o/riverbend/alerts/", 1)
    assert 'rel="prev"' not in html
    assert 'href="?page=2" rel="next"' in html
