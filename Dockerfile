FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

# WeasyPrint (appeal letters, parity packets, the dashboard PDF) needs Pango with its FreeType
# backend; fontconfig brings a font.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
    && rm -rf /var/lib/apt/lists/*

# Every package of [tool.setuptools.packages.find] in pyproject.toml.
COPY pyproject.toml README.md ./
COPY rcm ./rcm
COPY patients ./patients
COPY authorizations ./authorizations
COPY credentialing ./credentialing
COPY claims ./claims
COPY denials ./denials
COPY dashboards ./dashboards
COPY alerts ./alerts
COPY x12 ./x12
RUN pip install .

COPY . .
# STATIC_MANIFEST as at run time (docker-compose.yml): the hashed names and staticfiles.json
# that CompressedManifestStaticFilesStorage serves are written here.
RUN SECRET_KEY=build-only ALLOWED_HOSTS=build-only DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    STATIC_MANIFEST=true python manage.py collectstatic --noinput \
    && useradd --create-home --uid 10001 parity \
    && mkdir -p /app/var && chown parity /app/var
USER parity

EXPOSE 8000
CMD ["gunicorn", "rcm.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
