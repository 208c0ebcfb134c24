from django.urls import path

from claims import views

app_name = "claims"

urlpatterns = [
    path("", views.claim_list, name="list"),
    path("charges/", views.charge_list, name="charges"),
    path("charges/new/", views.charge_create, name="charge_create"),
    path("charges/preview/", views.charge_preview, name="charge_preview"),
    path("build/", views.claims_build, name="build"),
    path("ready/", views.ready_queue, name="ready_queue"),
    path("fee-schedule/", views.fee_schedule, name="fee_schedule"),
    path("care/", views.care_months, name="care_months"),
    path("care/<uuid:pk>/confirm/", views.care_month_confirm, name="care_month_confirm"),
    path("<uuid:pk>/", views.claim_detail, name="detail"),
    path("<uuid:pk>/action/", views.claim_action, name="action"),
    path("<uuid:pk>/edit/", views.claim_edit, name="edit"),
    path("<uuid:pk>/lines/<uuid:line_pk>/edit/", views.claim_line_edit, name="line_edit"),
    path("<uuid:pk>/lines/<uuid:line_pk>/delete/", views.claim_line_delete, name="line_delete"),
]
