"""My exports and imports: the progress, result and files of the long work a user asked for.

Exports (firms, report drill-downs and breakdowns, the monthly report, the audit log) and the
firm import run as jobs (:mod:`app.jobs`); their job kinds live in each domain's ``jobs.py``
and write their files through :mod:`app.exports.files`. This package shows a job to the user
who asked for it — a progress bar polled by ``static/progress.js``, then the result and the
files to download — keeps the files ``EXPORT_KEEP_DAYS`` days and removes them afterwards.
"""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from app.core.navigation import register_nav
from app.core.permissions import Permission

bp = Blueprint("exports", __name__, url_prefix="/my/files")

register_nav("exports.index", _l("My files"), Permission.JOB_OWN, order=84)

from app.exports import views  # noqa: E402, F401
