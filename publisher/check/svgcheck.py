"""Whether an SVG image is safe to put in every output: one verdict for the deck, the sheet and the EPUB.

An SVG is XML that a reader's engine runs: it can carry scripts, event handlers, links that fetch, and
entities. It is parsed as XML (lxml: entities not expanded, no DTD loaded, no network), whatever its
encoding (UTF-8, UTF-16, a declared one), and then only a known set of drawing elements and attributes is
let through, by namespace, not by prefix (``<svg:script>`` is a script). References may only point inside the
image (``#id``) or hold an embedded raster (``data:image/png;base64,...``). Anything else is named in the
verdict, which `check` reports (P110) before anything is written; the renderers ask the same question.
"""

from __future__ import annotations

import re

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"
# what drawing programs leave in a file: metadata no renderer acts on (Inkscape, Sodipodi, RDF, Dublin Core)
METADATA_NS = frozenset({
    "http://www.inkscape.org/namespaces/inkscape", "http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "http://purl.org/dc/elements/1.1/", "http://creativecommons.org/ns#",
    "http://web.resource.org/cc/", "http://ns.adobe.com/AdobeIllustrator/10.0/", "http://ns.adobe.com/Graphs/1.0/",
    "http://ns.adobe.com/Extensibility/1.0/", "http://ns.adobe.com/SaveForWeb/1.0/", "http://ns.adobe.com/Variables/1.0/",
    "http://ns.adobe.com/ImageReplacement/1.0/", "http://ns.adobe.com/xap/1.0/", "http://www.bohemiancoding.com/sketch/ns",
})
ELEMENTS = frozenset({
    "svg", "g", "defs", "symbol", "use", "title", "desc", "metadata", "switch", "view",
    "path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "image",
    "text", "tspan", "textPath", "tref",
    "linearGradient", "radialGradient", "stop", "pattern", "clipPath", "mask", "marker", "style",
    "filter", "feBlend", "feColorMatrix", "feComponentTransfer", "feComposite", "feConvolveMatrix",
    "feDiffuseLighting", "feDisplacementMap", "feDistantLight", "feDropShadow", "feFlood", "feFuncA", "feFuncB",
    "feFuncG", "feFuncR", "feGaussianBlur", "feImage", "feMerge", "feMergeNode", "feMorphology", "feOffset",
    "fePointLight", "feSpecularLighting", "feSpotLight", "feTile", "feTurbulence",
})
ATTRIBUTES = frozenset("""
id class style lang tabindex role version baseProfile x y width height viewBox preserveAspectRatio transform d
points cx cy r rx ry x1 y1 x2 y2 fx fy fr dx dy rotate textLength lengthAdjust startOffset method spacing side
pathLength href gradientUnits gradientTransform spreadMethod offset patternUnits patternContentUnits
patternTransform clipPathUnits maskUnits maskContentUnits markerUnits markerWidth markerHeight refX refY orient
filterUnits primitiveUnits result in in2 stdDeviation mode type values operator k1 k2 k3 k4 order kernelMatrix
divisor bias targetX targetY edgeMode kernelUnitLength preserveAlpha surfaceScale diffuseConstant
specularConstant specularExponent limitingConeAngle pointsAtX pointsAtY pointsAtZ azimuth elevation z scale
xChannelSelector yChannelSelector radius baseFrequency numOctaves seed stitchTiles tableValues slope intercept
amplitude exponent requiredFeatures requiredExtensions systemLanguage enable-background zoomAndPan
alignment-baseline baseline-shift clip clip-path clip-rule color color-interpolation
color-interpolation-filters color-profile color-rendering cursor direction display dominant-baseline fill
fill-opacity fill-rule filter flood-color flood-opacity font font-family font-size font-size-adjust
font-stretch font-style font-variant font-weight glyph-orientation-horizontal glyph-orientation-vertical
image-rendering kerning letter-spacing lighting-color marker marker-end marker-mid marker-start mask
mask-type opacity overflow paint-order pointer-events shape-rendering stop-color stop-opacity stroke
stroke-dasharray stroke-dashoffset stroke-linecap stroke-linejoin stroke-miterlimit stroke-opacity
stroke-width text-anchor text-decoration text-rendering unicode-bidi vector-effect visibility word-spacing
writing-mode space media
""".split())
# the document types drawing programs write: public identifiers of the W3C's SVG DTDs, never loaded
PUBLIC_DTDS = frozenset({"-//W3C//DTD SVG 1.0//EN", "-//W3C//DTD SVG 1.1//EN", "-//W3C//DTD SVG 1.1 Basic//EN",
                         "-//W3C//DTD SVG 1.1 Tiny//EN", "-//W3C//DTD SVG 1.2 Tiny//EN"})
LOCAL_REF_RE = re.compile(r"^\s*#")
RASTER_DATA_RE = re.compile(r"^\s*data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*$", re.I)
URL_RE = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.I | re.S)
CSS_ACTIVE_RE = re.compile(r"@import|expression\s*\(|javascript:|behaviou?r\s*:|-moz-binding", re.I)


def _css_problem(css: str) -> str | None:
    found = CSS_ACTIVE_RE.search(css)
    if found:
        return f"CSS that loads or runs something ({found.group()[:20]})"
    for url in URL_RE.finditer(css):
        if not LOCAL_REF_RE.match(url.group(2)) and not RASTER_DATA_RE.match(url.group(2)):
            return f"a CSS url() that leaves the image ({url.group(2)[:40]})"
    return None


def _local(qname: str) -> tuple[str, str]:
    ns, _, name = qname[1:].partition("}") if qname.startswith("{") else ("", "", qname)
    return ns, name


def looks_svg(name: str, head: bytes) -> bool:
    """Is this file an SVG (by its name, or its first bytes in UTF-8 or UTF-16)?"""
    if name.lower().endswith((".svg", ".svgz")):
        return True
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "<svg" in head[:2048].decode("utf-16", errors="ignore").lower()
    return b"<svg" in head[:1024].lower()


def problem(data: bytes) -> str | None:
    """Why the SVG ``data`` must not be shown (None: it is safe in every output)."""
    from lxml import etree

    if data[:2] == b"\x1f\x8b":
        return "a compressed SVG (.svgz): save it as plain .svg"
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             huge_tree=False, remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        return f"not well-formed XML ({str(exc)[:60]})"
    info = root.getroottree().docinfo
    subset = info.internalDTD  # lxml gives one for every document type: declarations in it are what count
    declares = subset is not None and (any(True for _ in subset.entities()) or any(True for _ in subset.elements()))
    if info.doctype and (info.public_id not in PUBLIC_DTDS or declares):
        return f"a document type that is not the standard SVG one ({info.doctype[:60]})"
    if _local(root.tag) != (SVG_NS, "svg"):
        return "its root is not an SVG <svg> element"
    for el in root.iter():
        if not isinstance(el.tag, str):  # an entity reference left as it is
            return "an entity reference"
        ns, name = _local(el.tag)
        if ns in METADATA_NS:
            continue
        if ns != SVG_NS or name not in ELEMENTS:
            return f"a <{name}> element" + (f" of {ns}" if ns and ns != SVG_NS else "")
        if name == "style" and (why := _css_problem("".join(el.itertext()))):
            return why
        for qname, value in el.attrib.items():
            ans, aname = _local(qname)
            if ans in METADATA_NS:
                continue
            known = (ans == "" and (aname in ATTRIBUTES or aname.startswith(("aria-", "data-"))) or
                     ans == XLINK_NS and aname in ("href", "title") or ans == XML_NS)
            if not known:
                return f"a '{aname}' attribute on <{name}>"
            if aname == "href" and not (LOCAL_REF_RE.match(value) or (name in ("image", "feImage") and RASTER_DATA_RE.match(value))):
                return f"a link that leaves the image ({value[:40]})"
            if aname == "style" or "url(" in value.lower():
                if why := _css_problem(value):
                    return why
    return None
