from django.urls import path

from denials import desk_views, status_views, views

app_name = "denials"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("assign/", views.queue_assign, name="assign"),
    path("take-next/", views.queue_take_next, name="take_next"),
    path("items/<uuid:pk>/", views.item_detail, name="item"),
    path("remittances/", views.remittances, name="remittances"),
    path("remittances/<uuid:pk>/", views.import_detail, name="import"),
    path("payments/<uuid:pk>/", views.payment_detail, name="payment"),
    path("exceptions/", views.exceptions, name="exceptions"),
    path("secondaries/", views.secondaries, name="secondaries"),
    path("exceptions/<uuid:pk>/", views.exception_detail, name="exception"),
    path("exceptions/<uuid:pk>/resolve/", views.exception_resolve, name="exception_resolve"),
    path("denials/<uuid:pk>/", views.denial_detail, name="denial"),
    path("denials/<uuid:pk>/appeal/", views.appeal_new, name="appeal_new"),
    path("denials/<uuid:pk>/correct/", views.denial_correct, name="correct"),
    path("denials/<uuid:pk>/write-off/", views.write_off_new, name="write_off"),
    path("write-offs/<uuid:pk>/decide/", views.write_off_decide, name="write_off_decide"),
    path("appeals/<uuid:pk>/letter/", views.letter_edit, name="letter"),
    path("appeals/<uuid:pk>/letter.pdf", views.letter_download, name="letter_pdf"),
    path("appeals/<uuid:pk>/submit/", views.appeal_submit, name="appeal_submit"),
    path("appeals/<uuid:pk>/decide/", views.appeal_decide, name="appeal_decide"),
    path("settings/", views.denial_settings, name="settings"),
    path("parity/", views.parity, name="parity"),
    path("parity/packet.<str:fmt>", views.parity_export, name="parity_export"),
    path("claims/<uuid:pk>/account/", desk_views.claim_account_view, name="claim_account"),
    path("claims/<uuid:pk>/status/", status_views.claim_status_panel, name="claim_status"),
    path("claim-status/", status_views.claim_status_checks, name="claim_status_checks"),
    path("notes/", desk_views.notes, name="notes"),
    path(
        "notes/<str:subject_type>/<uuid:subject_id>/new/",
        desk_views.note_create,
        name="note_create",
    ),
    path("notes/<uuid:pk>/", desk_views.note_edit, name="note_edit"),
]
