"""Flask extensions, created unbound and initialised in :func:`app.create_app`."""

from flask import request
from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from app.core import rate_limits  # noqa: F401 - registers the local-memory:// store
from app.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address)
bootstrap = Bootstrap5()


@limiter.request_filter
def _reads_are_never_limited() -> bool:
    """Every rate limit of the application is on POST (sign-in, request form, lookup), so a
    GET never counts; skipping the limiter's bookkeeping keeps public pages cheap."""
    return request.method in ("GET", "HEAD", "OPTIONS")
