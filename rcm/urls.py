"""URL layout: pages of an organization under /o/<org-slug>/, the API under /api/v1/.

Each domain app plugs in without editing this file: `<app>/urls.py` (with `app_name`) is mounted
at `/o/<org-slug>/<app>/`, and `<app>/api.py` may define `register(router)` for its viewsets.
`<app>/urls.py` may also define `mount_path` (its pages under another path than `<app>/`:
submissions mounts its batch pages at `claims/batches/`) and `site_urlpatterns` (pages outside
any organization).
"""

import importlib
from importlib.util import find_spec

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from rcm import views
from rcm.api_routing import UuidRouter
from rcm.operations import api as _operations_api
from rcm.tenancy import two_factor_views
from rcm.tenancy import views as tenancy_views
from rcm.tenancy.api import MeView

handler403 = "rcm.views.permission_denied"
handler404 = "rcm.views.page_not_found"
handler500 = "rcm.views.server_error"

router = UuidRouter()
domain_page_patterns: list[URLResolver] = []
site_patterns: list[URLPattern | URLResolver] = []
for _app in settings.DOMAIN_APPS:
    if find_spec(f"{_app}.api"):
        _api = importlib.import_module(f"{_app}.api")
        if hasattr(_api, "register"):
            _api.register(router)
    if find_spec(f"{_app}.urls"):
        _urls = importlib.import_module(f"{_app}.urls")
        _mount_path = getattr(_urls, "mount_path", f"{_app}/")
        domain_page_patterns.append(path(_mount_path, include(f"{_app}.urls")))
        site_patterns.extend(getattr(_urls, "site_urlpatterns", []))

_operations_api.register(router)

api_patterns = [
    path("me", MeView.as_view(), name="me"),
    path("schema/", SpectacularAPIView.as_view(permission_classes=[]), name="schema"),
    path(
        "docs/",
        # The split view serves its start-up script as a file: the CSP allows no inline script.
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", permission_classes=[]),
        name="docs",
    ),
    *router.urls,
]

organization_patterns: list[URLPattern | URLResolver] = [
    path("", tenancy_views.org_home, name="org_home"),
    path("settings/", include("rcm.tenancy.urls")),
    path("audit/", include("rcm.audit.urls")),
    path("operations/", include("rcm.operations.urls")),
    *domain_page_patterns,
]

urlpatterns = [
    path("", tenancy_views.choose_organization, name="home"),
    path("accounts/login/", two_factor_views.SignInView.as_view(), name="login"),
    path("accounts/login/code/", two_factor_views.second_step, name="two_factor_verify"),
    path("accounts/security/", two_factor_views.security, name="security"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Invitations and password resets.
    path("accounts/", include("rcm.tenancy.account_urls")),
    path("healthz", views.healthz, name="healthz"),
    *site_patterns,
    path("o/<slug:org_slug>/", include(organization_patterns)),
    path("api/v1/", include((api_patterns, "api"))),
    path("admin/", admin.site.urls),
]
