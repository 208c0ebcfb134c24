from django.urls import path

from patients import views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create, name="create"),
    path("import/", views.patient_import, name="import"),
    path("import/template.csv", views.patient_import_template, name="import_template"),
    path("payers/", views.payer_list, name="payers"),
    path("payers/new/", views.payer_create, name="payer_create"),
    path("payers/<uuid:pk>/", views.payer_edit, name="payer_edit"),
    path("<uuid:pk>/", views.patient_detail, name="detail"),
    path("<uuid:pk>/edit/", views.patient_edit, name="edit"),
    path("<uuid:pk>/coverages/new/", views.coverage_create, name="coverage_create"),
    path("<uuid:pk>/episodes/new/", views.episode_open, name="episode_open"),
    path("<uuid:pk>/consents/new/", views.consent_create, name="consent_create"),
    path("coverages/<uuid:pk>/", views.coverage_edit, name="coverage_edit"),
    path("coverages/<uuid:pk>/verify/", views.coverage_verify, name="coverage_verify"),
    path("episodes/<uuid:pk>/transition/", views.episode_transition, name="episode_transition"),
    path("episodes/<uuid:pk>/discharge/", views.episode_discharge, name="episode_discharge"),
    path("episodes/<uuid:pk>/diagnoses/new/", views.diagnosis_add, name="diagnosis_add"),
    path("diagnoses/<uuid:pk>/end/", views.diagnosis_end, name="diagnosis_end"),
    path("consents/<uuid:pk>/revoke/", views.consent_revoke, name="consent_revoke"),
]
