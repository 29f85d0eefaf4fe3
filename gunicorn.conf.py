"""gunicorn settings for the production image (`gunicorn -c gunicorn.conf.py uku.wsgi:application`).

Only logging lives here: gunicorn's access and error logs go through uku's JSON formatter and
secret-redaction filter, like everything Django logs. Request paths carry invitation and
password-reset tokens, which the filter masks (see uku/logging.py). Bind address and worker count
stay on the command line (Dockerfile, docker-compose.yml).
"""

from __future__ import annotations

import os

_FILTERS = ["request_id", "redact"]

# Access lines go to stdout (as `--access-logfile -` did); gunicorn's own messages to stderr.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "uku.logging.RequestIdFilter"},
        "redact": {"()": "uku.logging.RedactSecretsFilter"},
    },
    "formatters": {"json": {"()": "uku.logging.JsonFormatter"}},
    "handlers": {
        "access": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": _FILTERS,
            "stream": "ext://sys.stdout",
        },
        "error": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": _FILTERS,
            "stream": "ext://sys.stderr",
        },
    },
    "root": {"handlers": ["error"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        "gunicorn.error": {"handlers": ["error"], "level": "INFO", "propagate": False},
    },
}
