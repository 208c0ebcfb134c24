from django.urls import path

from reconciliation import views

app_name = "reconciliation"

urlpatterns = [
    path("", views.queues, name="queues"),
    path("deposits/", views.deposits, name="deposits"),
    path("deposits/<uuid:pk>/", views.deposit_detail, name="deposit"),
    path("matches/", views.matches, name="matches"),
    path("matches/new/", views.match_new, name="match_new"),
    path("matches/<uuid:pk>/", views.match_detail, name="match"),
    path("bank-accounts/", views.bank_accounts, name="bank_accounts"),
    path("bank-accounts/add/", views.bank_account_add, name="bank_account_add"),
    path("bank-accounts/<uuid:pk>/", views.bank_account_edit, name="bank_account_edit"),
    path("settings/", views.settings_view, name="settings"),
    path("underpayments/tolerance/", views.tolerance_view, name="tolerance"),
    path("underpayments/", views.underpayments, name="underpayments"),
    path("underpayments/<uuid:pk>/", views.underpayment_detail, name="underpayment"),
]
