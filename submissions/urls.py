from django.urls import path

from submissions import views

app_name = "batches"
# The batch pages stay where billers know them, under the claims pages (rcm/urls.py).
mount_path = "claims/batches/"

urlpatterns = [
    path("", views.batch_list, name="list"),
    path("<uuid:pk>/", views.batch_detail, name="detail"),
    path("<uuid:pk>/file/", views.batch_file, name="file"),
    path("<uuid:pk>/send/", views.batch_send, name="send"),
    path("<uuid:pk>/retry/", views.batch_retry, name="retry"),
    path("clearinghouses/", views.clearinghouses, name="clearinghouses"),
    path("eligibility/<uuid:pk>/check/", views.eligibility_check, name="eligibility_check"),
    path("eligibility/all/", views.eligibility_batches, name="eligibility_batches"),
    path("eligibility/all/<uuid:pk>/", views.eligibility_batch, name="eligibility_batch"),
    path("clearinghouses/<uuid:pk>/", views.clearinghouses, name="clearinghouse_edit"),
    path("acknowledgments/upload/", views.ack_upload, name="ack_upload"),
    path("rejections/", views.rejections, name="rejections"),
    path("rejections/<uuid:pk>/resolve/", views.rejection_resolve, name="rejection_resolve"),
    path("claim/<uuid:pk>/x12/", views.claim_x12_preview, name="claim_x12_preview"),
    path("claim/<uuid:pk>/cms1500.pdf", views.claim_cms1500, name="claim_cms1500"),
    path("paper/", views.paper_print, name="paper"),
]
