"""The XSS corpus and a structural check that a page shows it inert.

Import tests reuse both: ``xss_payloads()`` gives the hostile strings to write into every field,
``executable_parts(html, nonce=...)`` lists what of a rendered page a browser would run.

The check parses the page as a browser does (lexbor, through selectolax, implements the WHATWG
parser, foreign SVG/MathML content included, in C: the suite parses thousands of pages) and
looks at the tree, not at the text: a payload shown as text is harmless however it reads; one
that became an element or an attribute is not.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import nh3
from django.conf import settings
from selectolax.lexbor import LexborHTMLParser

PAYLOADS_FILE = Path(__file__).with_name("xss_payloads.txt")

# Attributes whose value a browser follows or runs as a URL.
URL_ATTRIBUTES = {
    "href", "src", "action", "formaction", "data", "poster", "background", "lowsrc", "dynsrc", "codebase",
    "cite", "srcset", "ping", "to", "from", "values", "by", "xlink:href",
}  # fmt: skip
# Elements that load a resource; theirs must stay on this site.
LOADERS = {"script", "link", "iframe", "frame", "embed", "object", "base"}
RUNNABLE_SCHEMES = ("javascript:", "vbscript:", "data:text/html", "data:image/svg", "data:application")
TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")


def xss_payloads() -> list[str]:
    """One payload a line (split on "\\n" only: some payloads hold other line separators)."""
    return [line for line in PAYLOADS_FILE.read_text(encoding="utf-8").split("\n") if line]


@functools.cache
def known_tags() -> frozenset[str]:
    """Every element Rapport itself can render: its templates, the form widgets and crispy
    templates it uses, and what the Markdown sanitiser lets through. Anything else on a page
    came from data."""
    import crispy_bootstrap5
    import django

    folders = [
        Path(settings.BASE_DIR) / "templates",
        Path(django.__file__).parent / "forms" / "templates",
        Path(crispy_bootstrap5.__file__).parent / "templates",
    ]
    tags = set(nh3.ALLOWED_TAGS) | {"html", "head", "body", "tbody"}  # the parser adds these itself
    for folder in folders:
        for template in folder.rglob("*.html"):
            tags |= {t.lower() for t in re.findall(r"<([a-zA-Z][a-zA-Z0-9-]*)", template.read_text())}
    return frozenset(tags)


def _local(name: str) -> str:
    """``{http://www.w3.org/1999/xlink}href`` -> ``xlink:href``; ``{...svg}svg`` -> ``svg``."""
    if name.startswith("{"):
        namespace, _, local = name[1:].partition("}")
        return f"xlink:{local}" if namespace.endswith("/xlink") else local
    return name


def _as_browser_reads(url: str) -> str:
    """What the WHATWG URL parser starts from: no leading or trailing C0 controls or spaces,
    no tabs or newlines anywhere ("java\tscript:" is "javascript:"), scheme case-insensitive."""
    return TAB_OR_NEWLINE.sub("", url.strip("".join(map(chr, range(0x21))))).lower()


def _runnable(url: str) -> bool:
    return _as_browser_reads(url).startswith(RUNNABLE_SCHEMES)


def _foreign(url: str) -> bool:
    url = _as_browser_reads(url)
    return url.startswith(("//", "http:", "https:")) or ":" in url.split("/", 1)[0]


def executable_parts(html: str, *, nonce: str | None = None) -> list[str]:
    """What in ``html`` a browser would run or load on the page's behalf: should be empty.

    Our scripts are files under STATIC_URL (or carry the response's CSP nonce); any other
    script, any ``on*`` handler, any runnable URL, any element Rapport never renders, a
    refresh, or a resource from another site is reported.
    """
    return inspect(html, nonce=nonce)[0]


def inspect(html: str, *, nonce: str | None = None) -> tuple[list[str], str]:
    """``executable_parts`` and the text a reader sees, from one parse (parsing is the slow part)."""
    tree = LexborHTMLParser(html)
    allowed = known_tags()
    found = []
    for element in tree.root.traverse() if tree.root else ():
        if element.tag.startswith(("-", "!")):
            continue  # a comment or the doctype
        tag = _local(element.tag).lower()
        attributes = {_local(k).lower(): v or "" for k, v in element.attributes.items()}
        where = f"<{tag} {' '.join(f'{k}={v!r}' for k, v in attributes.items())}>"
        if tag not in allowed:
            found.append(f"unknown element {where}")
        for name, value in attributes.items():
            if name.startswith("on"):
                found.append(f"event handler {where}")
            elif name in URL_ATTRIBUTES and _runnable(value):
                found.append(f"runnable URL {where}")
            elif name == "srcdoc":
                found.append(f"inline document {where}")
        if tag == "script":
            text = element.text(deep=True)
            ours = attributes.get("src", "").startswith(settings.STATIC_URL) and not text.strip()
            if not ours and not (nonce and attributes.get("nonce") == nonce):
                found.append(f"script {where} {text[:60]!r}")
        if tag in LOADERS and any(_foreign(attributes.get(a, "")) for a in ("src", "href", "data")):
            found.append(f"foreign resource {where}")
        if tag == "meta" and "http-equiv" in attributes:
            found.append(f"meta refresh {where}")
    return found, tree.root.text() if tree.root else ""
