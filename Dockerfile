FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY rcm ./rcm
COPY patients ./patients
COPY authorizations ./authorizations
COPY credentialing ./credentialing
COPY claims ./claims
COPY denials ./denials
COPY dashboards ./dashboards
RUN pip install .

COPY . .
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput \
    && useradd --create-home --uid 10001 parity
USER parity

EXPOSE 8000
CMD ["gunicorn", "rcm.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
