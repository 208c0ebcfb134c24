from django.urls import path

from authorizations import views

app_name = "authorizations"

urlpatterns = [
    path("", views.authorization_list, name="list"),
    path("new/", views.authorization_new, name="new"),
    path("reviews/", views.review_calendar, name="calendar"),
    path("reviews/<uuid:pk>/complete/", views.review_complete, name="review_complete"),
    path("scan/", views.scan_run, name="scan"),
    path("settings/", views.authorization_settings, name="settings"),
    path("<uuid:pk>/", views.authorization_detail, name="detail"),
    path("<uuid:pk>/edit/", views.authorization_edit, name="edit"),
    path("<uuid:pk>/decide/", views.authorization_decide, name="decide"),
    path("<uuid:pk>/cancel/", views.authorization_cancel, name="cancel"),
    path("<uuid:pk>/reviews/", views.review_schedule, name="review_schedule"),
    path("<uuid:pk>/usage/", views.usage_record, name="usage"),
]
