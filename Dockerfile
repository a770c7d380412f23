# The Mesa 24/7 payments back office: one image for `web` (gunicorn) and `worker` (qcluster).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so that code changes do not reinstall them. The service's only:
# tests, benchmarks and linters (requirements-dev.txt) stay out of the image.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .

# Static files (admin, Swagger UI) are collected into the image and served by
# WhiteNoise, so the admin works with DEBUG off. The values below exist only
# for this build step; the real ones come from the environment at run time.
# collectstatic connects to no database and starts none (DATABASE_URL is unset here).
RUN SECRET_KEY=collectstatic-only DEBUG=false ALLOWED_HOSTS=localhost PROCESSOR_WEBHOOK_SECRETS=build-only \
    python manage.py collectstatic --no-input --verbosity 0

# /var/lib/mesa247/metrics: PROMETHEUS_MULTIPROC_DIR in docker-compose.yml (a fresh named volume takes this owner).
RUN useradd --system --uid 1000 --home-dir /app mesa && chown -R mesa /app \
    && mkdir -p /var/lib/mesa247/metrics && chown mesa /var/lib/mesa247/metrics
USER mesa

EXPOSE 8000
# gunicorn reads gunicorn.conf.py (bind 0.0.0.0:8000, WEB_CONCURRENCY workers, timeout 30) by itself.
CMD ["gunicorn", "mesa247.wsgi:application"]
