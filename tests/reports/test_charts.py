"""The dashboard's SVG charts: geometry worked out in Python (app/reports/charts.py), markup
from the template reports/_charts.html, every text escaped."""

from __future__ import annotations

from lxml import etree

from app.reports import charts

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "<b>甲 & \"乙\"</b>"


def _svg(app, chart) -> etree._Element:
    with app.test_request_context("/"):
        markup = app.jinja_env.get_template("reports/_charts.html").module.chart(chart)
    assert "<b>" not in str(markup)
    return etree.fromstring(str(markup).encode())  # well-formed XML


def test_a_column_chart_with_its_line(app):
    bars = [charts.Bar(HOSTILE, 12, "12"), charts.Bar("02-09", 0, "0"),
            charts.Bar("02-16", 33, "33")]
    svg = _svg(app, charts.column_chart("每周 <收件>", bars, [0.5, None, 1.0], "按时"))
    assert svg.get("role") == "img" and svg.findtext(f"{SVG}title") == "每周 <收件>"
    assert HOSTILE in svg.findtext(f"{SVG}desc") and "按时 02-09: –" in svg.findtext(f"{SVG}desc")
    assert len(svg.findall(f"{SVG}line")) == 5
    rects = svg.findall(f"{SVG}rect")
    assert [rect.findtext(f"{SVG}title") for rect in rects] == [
        f"{HOSTILE}: 12", "02-09: 0", "02-16: 33"]
    assert [float(rect.get("height")) for rect in rects] == [48.0, 0.0, 132.0]  # of 200 per 50
    texts = [text.text for text in svg.findall(f"{SVG}text")]
    assert texts[:3] == ["0", "0%", "12.5"] and HOSTILE in texts and texts[-1] == "按时"
    assert len(svg.findall(f"{SVG}circle")) == 2  # no point for the week without a rate
    assert svg.find(f"{SVG}polyline").get("points").count(",") == 2


def test_a_bar_chart_shortens_long_labels_but_names_them_in_full(app):
    name = "昆山市商务局对外经济合作处第一科室"
    svg = _svg(app, charts.bar_chart("按时率", [charts.Bar(name, 50.0, "50.0%")], maximum=100))
    rect = svg.find(f"{SVG}rect")
    assert float(rect.get("width")) == 205.0 and rect.findtext(f"{SVG}title") == f"{name}: 50.0%"
    assert [text.text for text in svg.findall(f"{SVG}text")] == [name[:13] + "…", "50.0%"]


def test_an_empty_chart_still_has_its_title_and_axis(app):
    svg = _svg(app, charts.column_chart("空", []))
    assert svg.findtext(f"{SVG}title") == "空" and svg.find(f"{SVG}rect") is None
    assert len(svg.findall(f"{SVG}line")) == 5
