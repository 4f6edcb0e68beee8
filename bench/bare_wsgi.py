"""A plain Flask app (no extensions, no database) serving one page of a given size.

The ceiling for the public form page: the same gunicorn settings serving a page of the same
size (``BARE_PAGE_BYTES``) with nothing but Flask's routing and response. Only the portal
benchmark loads this module.
"""

import os

from flask import Flask

app = Flask(__name__)
PAGE = "<!doctype html><html><body>" + "x" * int(os.environ.get("BARE_PAGE_BYTES", "10000"))
PAGE += "</body></html>"


@app.get("/request")
def page():
    return PAGE
