"""The application as gunicorn serves it, plus one bare page: the framework's ceiling.

``/bench/bare`` goes through the same app, middleware and security headers but touches no
database, so its latency is what Flask and gunicorn cost on their own; report pages are
measured against it. Only the benchmark loads this module.
"""

from app import create_app
from app.core.security import public

app = create_app()


@public
def bare():
    return "ok"


app.add_url_rule("/bench/bare", "bench_bare", bare)
