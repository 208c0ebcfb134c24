from django.urls import path

from credentialing import views

app_name = "credentialing"

urlpatterns = [
    path("", views.roster, name="roster"),
    path("providers/new/", views.provider_create, name="provider_create"),
    path("providers/<uuid:pk>/", views.provider_detail, name="provider"),
    path("providers/<uuid:pk>/edit/", views.provider_edit, name="provider_edit"),
    path("providers/<uuid:pk>/credentials/new/", views.credential_create, name="credential_create"),
    path("providers/<uuid:pk>/enrollments/new/", views.enrollment_create, name="enrollment_create"),
    path("credentials/<uuid:pk>/", views.credential_edit, name="credential_edit"),
    path("enrollments/<uuid:pk>/", views.enrollment_edit, name="enrollment_edit"),
    path("matrix/", views.matrix, name="matrix"),
    path("pipeline/", views.pipeline, name="pipeline"),
    path("facilities/", views.facility_list, name="facilities"),
    path("facilities/<uuid:pk>/", views.facility_edit, name="facility_edit"),
    path("payer-rules/", views.payer_rules, name="payer_rules"),
    path("payer-rules/<uuid:pk>/delete/", views.payer_rule_delete, name="payer_rule_delete"),
]
