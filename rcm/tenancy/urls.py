from django.urls import path

from rcm.tenancy import views

app_name = "tenancy"

urlpatterns = [
    path("", views.organization_settings, name="settings"),
    path("members/", views.member_list, name="members"),
    path("members/<uuid:pk>/", views.member_edit, name="member_edit"),
    path("api-keys/", views.api_key_list, name="api_keys"),
    path("api-keys/<uuid:pk>/revoke/", views.api_key_revoke, name="api_key_revoke"),
]
