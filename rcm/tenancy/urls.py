from django.urls import path

from rcm.tenancy import views

app_name = "tenancy"

urlpatterns = [
    path("", views.organization_settings, name="settings"),
    path("members/", views.member_list, name="members"),
    path("members/<uuid:pk>/", views.member_edit, name="member_edit"),
    path("members/<uuid:pk>/unlock/", views.member_unlock, name="member_unlock"),
    path(
        "members/<uuid:pk>/force-password-reset/",
        views.member_force_password_reset,
        name="member_force_password_reset",
    ),
    path("invitations/<uuid:pk>/resend/", views.invitation_resend, name="invitation_resend"),
    path("invitations/<uuid:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("api-keys/", views.api_key_list, name="api_keys"),
    path("api-keys/<uuid:pk>/revoke/", views.api_key_revoke, name="api_key_revoke"),
]
