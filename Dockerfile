# Production-like image for web, worker and beat (see docker-compose.yml).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UKU_VAR_DIR=/app/var
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends gettext fonts-dejavu-core && rm -rf /var/lib/apt/lists/*
COPY requirements.lock .
RUN pip install --no-cache-dir -r requirements.lock
COPY . .
# Static files are built as production serves them (DEBUG=0: the hashed manifest storage), so a
# broken asset reference fails the build instead of every page. The secrets are throwaway values
# that exist only in this RUN step; the runtime environment supplies the real ones.
RUN DEBUG=0 SECRET_KEY="build-only-$(python -c 'import secrets; print(secrets.token_hex(32))')" \
    UKU_ENCRYPTION_KEYS="$(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
    python manage.py collectstatic --noinput \
    && useradd --create-home uku && mkdir -p var && chown -R uku var
USER uku
EXPOSE 8000
CMD ["gunicorn", "-c", "gunicorn.conf.py", "uku.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
