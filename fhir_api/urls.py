"""The FHIR API sits outside any organization's pages: /fhir/r4/ (site_urlpatterns); the
organization comes from the API key (rcm.tenancy.middleware)."""

from django.urls import URLPattern, path

from fhir_api import views
from fhir_api.models import ExportLevel

app_name = "fhir_api"

# No pages under /o/<org-slug>/.
urlpatterns: list[URLPattern] = []

site_urlpatterns = [
    path("fhir/r4/metadata", views.metadata, name="fhir_metadata"),
    path("fhir/r4/$export", views.export_kickoff, name="fhir_export"),
    path(
        "fhir/r4/Patient/$export",
        views.export_kickoff,
        {"level": ExportLevel.PATIENT},
        name="fhir_patient_export",
    ),
    path("fhir/r4/$export-status/<str:export_id>", views.export_status, name="fhir_export_status"),
    path("fhir/r4/$export-file/<str:file_id>", views.export_file, name="fhir_export_file"),
    path("fhir/r4/<str:resource_type>", views.search, name="fhir_search"),
    path("fhir/r4/<str:resource_type>/<str:resource_id>", views.read, name="fhir_read"),
    path("fhir/r4/", views.unknown, {"rest": ""}, name="fhir_base"),
    path("fhir/r4/<path:rest>", views.unknown, name="fhir_unknown"),
]
