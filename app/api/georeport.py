"""Open311 GeoReport v2's documents: what a service, a service definition and a service request
look like, in JSON and in XML, as the specification writes them (wiki.open311.org/GeoReport_v2).

A document is plain data (lists of dicts); :func:`render` writes it in the format the URL's
extension asked for. XML is written by ElementTree (every text escaped), with the
specification's element names: ``<services><service>…``, ``<service_requests><request>…``,
``<errors><error>…``.
"""

from __future__ import annotations

import json
from datetime import datetime
from xml.etree import ElementTree

from flask import Response

from app.core.clock import to_local

FORMATS = ("json", "xml")
MIMETYPES = {"json": "application/json", "xml": "text/xml"}

#: The element of each item of a list, by the list's element name.
ITEM_NAMES = {"services": "service", "service_requests": "request", "errors": "error",
              "attributes": "attribute", "values": "value", "endpoints": "endpoint",
              "formats": "format"}


def iso(value: datetime | None) -> str | None:
    """A timestamp as the specification wants it: ISO 8601 with its offset (Beijing time)."""
    return to_local(value).isoformat(timespec="seconds") if value is not None else None


def render(fmt: str, root: str, data, status: int = 200) -> Response:
    """``data`` (a list of items, or one object for the discovery and a service definition)
    as JSON or as XML under the element ``root``."""
    if fmt == "xml":
        body = _xml(root, data)
    else:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(body, status=status, content_type=f"{MIMETYPES[fmt]}; charset=utf-8")


def errors(fmt: str, status: int, description: str) -> Response:
    """The specification's error document: ``[{"code": 400, "description": "…"}]``."""
    return render(fmt, "errors", [{"code": status, "description": description}], status)


def _xml(root: str, data) -> bytes:
    element = ElementTree.Element(root)
    _fill(element, root, data)
    return ElementTree.tostring(element, encoding="utf-8", xml_declaration=True)


def _fill(element: ElementTree.Element, name: str, value) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(ElementTree.SubElement(element, key), key, item)
    elif isinstance(value, list):
        item_name = ITEM_NAMES.get(name, "item")
        for item in value:
            _fill(ElementTree.SubElement(element, item_name), item_name, item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)
