"""What WordPress does to catalogue text: `&` stored as `&amp;`, and `wpautop`/`wptexturize` in view context.

WooCommerce 10 stores a product's name, description and short description and a category's name with a
bare `&` escaped (`&amp;`, also in `context=edit`, and `&amp;` sent back stays `&amp;`). A GET in the
default `context=view` runs the descriptions through `wpautop` (paragraphs, `<br />`) and `wptexturize`
(curly quotes as numeric entities); `context=edit` and the answers to writes give them as stored.
"""

from __future__ import annotations

import re
from typing import Any

BARE_AMPERSAND = re.compile(r"&(?!(?:[A-Za-z][A-Za-z0-9]*|#[0-9]+|#[xX][0-9A-Fa-f]+);)")
BLOCK = re.compile(r"^<(?:p|div|ul|ol|li|table|h[1-6]|blockquote|pre|hr|dl|form)\b", re.I)
TAG = re.compile(r"(<[^>]*>)")
RENDERED = ("description", "short_description")
EDIT_ONLY = ("generated_slug", "permalink_template")  # product fields WordPress adds in edit context
KINDS = ("product", "variation")  # the kinds whose answers depend on the context


def escape_ampersands(text: str) -> str:
    """A bare `&` as `&amp;`; entities already written (`&amp;`, `&#8211;`) are kept."""
    return BARE_AMPERSAND.sub("&amp;", text)


def wpautop(text: str) -> str:
    """Paragraphs from blank lines, `<br />` for single line breaks, as WordPress' `wpautop` does."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    if not text.strip():
        return ""
    out = []
    for block in re.split(r"\n\s*\n", text):
        block = block.strip()
        if not block:
            continue
        if BLOCK.match(block):
            out.append(block + "\n")
        else:
            out.append("<p>" + block.replace("\n", "<br />\n") + "</p>\n")
    return "".join(out)


def _texturize_text(text: str) -> str:
    text = re.sub(r'(^|[\s(\[{>])"', r"\1&#8220;", text)
    text = text.replace('"', "&#8221;")
    text = re.sub(r"(^|[\s(\[{>])'", r"\1&#8216;", text)
    text = text.replace("'", "&#8217;")
    text = text.replace("...", "&#8230;").replace(" -- ", " &#8212; ").replace(" - ", " &#8211; ")
    return text


def wptexturize(text: str) -> str:
    """Curly quotes, apostrophes, dashes and ellipses as entities, outside tags only."""
    return "".join(part if TAG.fullmatch(part) else _texturize_text(part) for part in TAG.split(text))


def view(item: dict[str, Any]) -> dict[str, Any]:
    """A product or variation as GET shows it in `context=view`."""
    out = dict(item)
    for name in RENDERED:
        if isinstance(out.get(name), str):
            out[name] = wpautop(wptexturize(out[name]))
    if "average_rating" in out:
        out["average_rating"] = f"{float(out['average_rating'] or 0):.2f}"
    for name in EDIT_ONLY:
        out.pop(name, None)
    return out


def edit(item: dict[str, Any]) -> dict[str, Any]:
    """A product or variation as stored (`context=edit`, and the answers to POST, PUT and batch)."""
    if "average_rating" not in item:
        return item
    out = dict(item)
    rating = float(out["average_rating"] or 0)
    out["average_rating"] = f"{rating:g}" if rating else "0"
    return out


def in_context(item: dict[str, Any], context: str) -> dict[str, Any]:
    """`view` or `edit` form of a catalogue record."""
    return edit(item) if context == "edit" else view(item)
