from django.urls import path

from patient_accounts import views

app_name = "patient_accounts"

urlpatterns = [
    path("patients/<uuid:pk>/", views.account, name="account"),
    path("patients/<uuid:pk>/payments/", views.payment_create, name="payment_create"),
    path("patients/<uuid:pk>/guarantor/", views.guarantor_edit, name="guarantor"),
    path("patients/<uuid:pk>/refunds/", views.refund_create, name="refund_create"),
    path("patients/<uuid:pk>/sync/", views.sync, name="sync"),
    path("patients/<uuid:pk>/credit/", views.credit_apply, name="credit_apply"),
    path("patients/<uuid:pk>/placement/", views.placement_create, name="placement_create"),
    path("payments/<uuid:pk>/receipt.pdf", views.receipt, name="receipt"),
    path("refunds/<uuid:pk>/approve/", views.refund_approve, name="refund_approve"),
    path("refunds/<uuid:pk>/refuse/", views.refund_refuse, name="refund_refuse"),
    path("refunds/<uuid:pk>/record/", views.refund_record, name="refund_record"),
    path("small-balances/", views.small_balances, name="small_balances"),
    path("write-offs/<uuid:pk>/<str:decision>/", views.write_off_decide, name="write_off_decide"),
    path("placements/", views.placements, name="placements"),
    path("placements/export.csv", views.placements_export, name="placements_export"),
    path("placements/<uuid:pk>/recall/", views.placement_recall, name="placement_recall"),
    path("statements/", views.statements, name="statements"),
    path("statements/settings/", views.statement_settings, name="statement_settings"),
    path("statements/runs/<uuid:pk>/", views.statement_run, name="statement_run"),
    path(
        "statements/runs/<uuid:pk>/statements.pdf",
        views.statement_run_pdf,
        name="statement_run_pdf",
    ),
    path("statements/<uuid:pk>/statement.pdf", views.statement_pdf, name="statement_pdf"),
]
