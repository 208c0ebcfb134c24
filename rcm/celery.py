"""Celery application: Redis broker, late acks, one message at a time per worker process.

Settings are the CELERY_* names in rcm/settings.py. Without REDIS_URL tasks run eagerly.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcm.settings")

app = Celery("rcm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
