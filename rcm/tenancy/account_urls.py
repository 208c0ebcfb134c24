"""Account pages outside any organization, under /accounts/ (the sign-in view stays in rcm.urls)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from rcm.tenancy import account_views

urlpatterns = [
    path("invitation/<str:token>/", account_views.invitation_accept, name="invitation_accept"),
    path("password-reset/", account_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        account_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
