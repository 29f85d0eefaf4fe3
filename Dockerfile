# Production-like image for web, worker and beat (see docker-compose.yml).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UKU_VAR_DIR=/app/var
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends gettext && rm -rf /var/lib/apt/lists/*
COPY requirements.lock .
RUN pip install --no-cache-dir -r requirements.lock
COPY . .
RUN DEBUG=1 python manage.py collectstatic --noinput \
    && useradd --create-home uku && mkdir -p var && chown -R uku var
USER uku
EXPOSE 8000
CMD ["gunicorn", "-c", "gunicorn.conf.py", "uku.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
