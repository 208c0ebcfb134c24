"""The FHIR API sits outside any organization's pages: /fhir/r4/ (site_urlpatterns, namespace
`fhir`); the organization comes from the API key (rcm.tenancy.middleware). Each resource type
has its own read and search routes (`fhir:Patient-read`), so the isolation and Part 2 probes
fetch them with real ids."""

from django.urls import URLPattern, URLResolver, include, path

from fhir_api import views
from fhir_api.models import ExportLevel
from fhir_api.selectors import RESOURCE_TYPES

app_name = "fhir_api"

# No pages under /o/<org-slug>/.
urlpatterns: list[URLPattern] = []

fhir_patterns: list[URLPattern] = [
    path("metadata", views.metadata, name="metadata"),
    path("$export", views.export_kickoff, name="export"),
    path(
        "Patient/$export",
        views.export_kickoff,
        {"level": ExportLevel.PATIENT},
        name="patient-export",
    ),
    path("$export-status/<str:export_id>", views.export_status, name="export-status"),
    path("$export-file/<str:file_id>", views.export_file, name="export-file"),
]
for _type in RESOURCE_TYPES:
    fhir_patterns += [
        path(_type, views.for_type(views.search, _type), name=f"{_type}-search"),
        path(f"{_type}/<str:resource_id>", views.for_type(views.read, _type), name=f"{_type}-read"),
    ]
fhir_patterns += [
    path("", views.unknown, {"rest": ""}, name="base"),
    path("<path:rest>", views.unknown, name="unknown"),
]

site_urlpatterns: list[URLPattern | URLResolver] = [
    path("fhir/r4/", include((fhir_patterns, "fhir"))),
]
