from django.urls import path

from rcm.operations import views

app_name = "operations"

urlpatterns = [
    path("", views.operations_page, name="page"),
    path("jobs/<uuid:pk>/retry/", views.job_retry, name="job_retry"),
    path("jobs/<uuid:pk>/cancel/", views.job_cancel, name="job_cancel"),
    path("scan-runs/<uuid:pk>/retry/", views.scan_run_retry, name="scan_run_retry"),
    path("scan-runs/<uuid:pk>/cancel/", views.scan_run_cancel, name="scan_run_cancel"),
]
