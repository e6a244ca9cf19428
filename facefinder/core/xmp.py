"""Face regions in XMP: reading the MWG and Microsoft forms, writing facefinder's names.

Pure Python over the standard library's XML DOM (``xml.dom.minidom``, which keeps prefixes,
attribute order, comments and the ``<?xpacket?>`` wrapper), so that a sidecar facefinder updates
keeps every namespace and field it does not own. Nothing here touches files; see
:mod:`facefinder.core.xmp_files` for where XMP is found and how sidecars are written.

What facefinder reads (any RDF form: ``rdf:parseType="Resource"``, nested ``rdf:Description``,
fields as attributes or as elements; lists as ``rdf:Bag`` or ``rdf:Seq``):

- MWG regions: ``mwg-rs:Regions/mwg-rs:RegionList[]`` with ``mwg-rs:Area`` (``stArea:x, y`` the
  centre, ``w, h``, ``unit`` normalized, or pixel with ``mwg-rs:AppliedToDimensions``),
  ``mwg-rs:Type`` (only ``Face``, or no type) and ``mwg-rs:Name``;
- Microsoft regions: ``MP:RegionInfo/MPRI:Regions[]`` with ``MPReg:Rectangle`` ("left, top,
  width, height", normalized) and ``MPReg:PersonDisplayName``; used where no MWG region covers
  the same face;
- ``Iptc4xmpExt:PersonInImage`` (names only, no place in the photo).

What facefinder writes, and owns: one MWG and one Microsoft region per named face, the names in
``Iptc4xmpExt:PersonInImage``, ``digiKam:TagsList`` (``People/NAME``) and
``lr:hierarchicalSubject`` (``People|NAME``). Regions written by other programs for faces
facefinder does not know are kept as they are; a region over the same face as one facefinder
writes (IoU over 0.5) is replaced, and a name that no region carries any more is taken out of the
three name lists.

All rectangles are ``(left, top, width, height)`` normalized to the image as stored (see
:mod:`facefinder.core.orientation`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from xml.dom import minidom
from xml.dom.minidom import Document, Element
from xml.parsers import expat
from xml.parsers.expat import ExpatError

from .errors import FacefinderError
from .orientation import Rect, iou

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XMLNS = "http://www.w3.org/2000/xmlns/"
XML = "http://www.w3.org/XML/1998/namespace"
X = "adobe:ns:meta/"
MWGRS = "http://www.metadataworkinggroup.com/schemas/regions/"
STAREA = "http://ns.adobe.com/xmp/sType/Area#"
STDIM = "http://ns.adobe.com/xap/1.0/sType/Dimensions#"
MP = "http://ns.microsoft.com/photo/1.2/"
MPRI = "http://ns.microsoft.com/photo/1.2/t/RegionInfo#"
MPREG = "http://ns.microsoft.com/photo/1.2/t/Region#"
IPTCEXT = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
DIGIKAM = "http://www.digikam.org/ns/1.0/"
LR = "http://ns.adobe.com/lightroom/1.0/"

PREFIXES = {RDF: "rdf", X: "x", MWGRS: "mwg-rs", STAREA: "stArea", STDIM: "stDim", MP: "MP",
            MPRI: "MPRI", MPREG: "MPReg", IPTCEXT: "Iptc4xmpExt", DIGIKAM: "digiKam", LR: "lr"}

MAX_XMP_BYTES = 16 * 1024 * 1024
"""Larger "XMP" is refused as damaged (real packets are kilobytes; Lightroom's largest, with
develop history, a few megabytes)."""

SAME_FACE_IOU = 0.5
"""Two rectangles over one face: intersection over union above this (the issue's rule)."""

PEOPLE_TAG = "People/"
"""digiKam's root tag for people (``digiKam:TagsList``)."""
PEOPLE_KEYWORD = "People|"
"""The keyword hierarchy for people in ``lr:hierarchicalSubject`` (Lightroom's separator)."""

Key = tuple[str, str]  # (namespace URI, local name)


class XmpError(FacefinderError):
    """XMP that cannot be read (not well-formed XML, no RDF, a DTD, too large)."""


@dataclass(frozen=True)
class Region:
    """A face region: ``rect`` normalized to the stored image, ``name`` (None: unnamed),
    ``source`` 'mwg', 'mp' or 'facefinder'."""

    rect: Rect
    name: str | None
    source: str = "mwg"


@dataclass
class XmpFaces:
    """What an XMP document says about faces. ``applied_to``: MWG's AppliedToDimensions
    ``(w, h)`` in pixels when given; ``unusable``: face regions that could not be read (no
    size, not numbers) and were skipped."""

    regions: list[Region] = field(default_factory=list)
    persons: list[str] = field(default_factory=list)
    applied_to: tuple[int, int] | None = None
    unusable: int = 0


# -- parsing -----------------------------------------------------------------------------------
def parse(data: bytes) -> Document:
    """An XMP packet or sidecar -> a DOM. Raises :class:`XmpError` when it is not one.

    A DTD is refused outright: XMP never has one, and refusing it rules out entity expansion
    ("billion laughs") in files facefinder did not write."""
    if len(data) > MAX_XMP_BYTES:
        raise XmpError(f"XMP too large ({len(data) // 1_000_000} MB)")

    def refuse(*_args) -> None:
        raise XmpError("XMP with a DTD (not allowed in XMP)")

    # A first pass with a bare expat parser stops at a DTD in any encoding, before a DOM
    # expands anything.
    check = expat.ParserCreate()
    check.StartDoctypeDeclHandler = refuse
    check.EntityDeclHandler = refuse
    try:
        check.Parse(data, True)
        doc = minidom.parseString(data)
    except (ExpatError, ValueError, UnicodeError) as exc:
        raise XmpError(f"not well-formed XML ({exc})") from None
    if find_rdf(doc) is None:
        raise XmpError("no rdf:RDF element (not XMP)")
    return doc


def find_rdf(doc: Document) -> Element | None:
    """The rdf:RDF element: the root, or under x:xmpmeta (or x:xapmeta, older), or anywhere."""
    level = [doc.documentElement] if doc.documentElement is not None else []
    for _depth in range(3):
        for el in level:
            if _is(el, RDF, "RDF"):
                return el
        level = [c for el in level for c in _elements(el)]
    found = doc.getElementsByTagNameNS(RDF, "RDF")
    return found[0] if found else None


def _elements(node) -> list[Element]:
    return [c for c in node.childNodes if c.nodeType == c.ELEMENT_NODE]


def _is(node, ns: str, local: str) -> bool:
    return node.namespaceURI == ns and node.localName == local


def _text(node) -> str:
    return "".join(c.data for c in node.childNodes
                   if c.nodeType in (c.TEXT_NODE, c.CDATA_SECTION_NODE))


def _property_attributes(el: Element) -> dict[Key, str]:
    """Attributes that are RDF properties (not rdf:, xml:, xmlns or unqualified ones)."""
    out: dict[Key, str] = {}
    for a in el.attributes.values():
        if a.namespaceURI in (None, XMLNS, XML, RDF):
            continue
        out[(a.namespaceURI, a.localName)] = a.value
    return out


def _fields(node: Element) -> dict[Key, object]:
    """The fields of a resource: its property attributes and property elements."""
    out: dict[Key, object] = dict(_property_attributes(node))
    for c in _elements(node):
        out.setdefault((c.namespaceURI, c.localName), value(c))
    return out


def value(prop: Element):
    """The value of a property element, in whichever RDF form it is written: text (str), a
    struct (dict of (namespace, name) -> value) or an array (list)."""
    if prop.getAttributeNS(RDF, "parseType") == "Resource":
        return _fields(prop)
    kids = _elements(prop)
    if not kids:
        attrs = _property_attributes(prop)
        if attrs:  # an empty property element with property attributes: a struct
            return attrs
        return prop.getAttributeNS(RDF, "resource") or _text(prop)
    first = kids[0]
    if first.namespaceURI == RDF and first.localName in ("Bag", "Seq", "Alt"):
        return [value(li) for li in _elements(first) if _is(li, RDF, "li")]
    if _is(first, RDF, "Description"):
        fields = _fields(first)
        return fields.get((RDF, "value"), fields)  # a qualified value: the value itself
    return _fields(prop)


def descriptions(doc: Document) -> list[Element]:
    rdf = find_rdf(doc)
    return [] if rdf is None else [d for d in _elements(rdf) if _is(d, RDF, "Description")]


def properties(doc: Document) -> dict[Key, object]:
    """Every top-level property of the document (all its rdf:Description elements)."""
    out: dict[Key, object] = {}
    for d in descriptions(doc):
        for k, v in _fields(d).items():
            out.setdefault(k, v)
    return out


# -- reading faces -------------------------------------------------------------------------------
def _number(v) -> float | None:
    if not isinstance(v, str):
        return None
    try:
        f = float(v.strip().replace(",", "."))
    except ValueError:
        return None
    return f if math.isfinite(f) else None


def _name(v) -> str | None:
    if isinstance(v, list):  # some writers put a language alternative here
        v = next((x for x in v if isinstance(x, str)), None)
    if not isinstance(v, str):
        return None
    name = " ".join(v.split())
    return name or None


def _dimensions(v) -> tuple[int, int] | None:
    if not isinstance(v, dict):
        return None
    w, h = _number(v.get((STDIM, "w"))), _number(v.get((STDIM, "h")))
    unit = v.get((STDIM, "unit"), "pixel")
    if w is None or h is None or w < 1 or h < 1 or str(unit).strip().lower() != "pixel":
        return None
    return int(round(w)), int(round(h))


def _sane(rect: Rect) -> Rect | None:
    x, y, w, h = rect
    if not (w > 0 and h > 0) or x + w <= 0 or y + h <= 0 or x >= 1 or y >= 1 or w > 2 or h > 2:
        return None
    return rect


def _mwg_rect(area, applied: tuple[int, int] | None) -> Rect | None:
    if not isinstance(area, dict):
        return None
    x, y = _number(area.get((STAREA, "x"))), _number(area.get((STAREA, "y")))
    w, h = _number(area.get((STAREA, "w"))), _number(area.get((STAREA, "h")))
    if None in (x, y, w, h):
        return None  # a point or a circle (stArea:d) marks no face box
    unit = str(area.get((STAREA, "unit"), "normalized")).strip().lower()
    if unit == "pixel":
        if applied is None:
            return None
        x, w = x / applied[0], w / applied[0]
        y, h = y / applied[1], h / applied[1]
    elif unit != "normalized":
        return None
    return _sane((x - w / 2, y - h / 2, w, h))


def _mp_rect(text) -> Rect | None:
    if not isinstance(text, str):
        return None
    parts = [_number(p) for p in text.split(",")]
    if len(parts) != 4 or None in parts:
        return None
    return _sane(tuple(parts))


def _is_face(item: dict) -> bool:
    kind = item.get((MWGRS, "Type"))
    return not isinstance(kind, str) or kind.strip() in ("", "Face") or \
        kind.strip().lower() == "face"


def read_faces(doc: Document, props: dict | None = None) -> XmpFaces:
    """The face regions (MWG first, then Microsoft regions over other faces) and the names of
    ``Iptc4xmpExt:PersonInImage``. Rectangles are as written (normalized to the frame the writer
    used: the stored image for writers that follow MWG). ``props``: :func:`properties` of
    ``doc``, when the caller has them already."""
    props = properties(doc) if props is None else props
    out = XmpFaces()
    regions = props.get((MWGRS, "Regions"))
    if isinstance(regions, dict):
        out.applied_to = _dimensions(regions.get((MWGRS, "AppliedToDimensions")))
        items = regions.get((MWGRS, "RegionList"))
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict) or not _is_face(item):
                continue
            rect = _mwg_rect(item.get((MWGRS, "Area")), out.applied_to)
            if rect is None:
                out.unusable += 1
                continue
            out.regions.append(Region(rect, _name(item.get((MWGRS, "Name"))), "mwg"))
    info = props.get((MP, "RegionInfo"))
    if isinstance(info, dict):
        items = info.get((MPRI, "Regions"))
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            rect = _mp_rect(item.get((MPREG, "Rectangle")))
            if rect is None:
                out.unusable += 1
                continue
            name = _name(item.get((MPREG, "PersonDisplayName")))
            same = [i for i, r in enumerate(out.regions) if r.source == "mwg"
                    and iou(r.rect, rect) > SAME_FACE_IOU]
            if not same:
                out.regions.append(Region(rect, name, "mp"))
            elif name and out.regions[same[0]].name is None:  # the MWG region had no name
                r = out.regions[same[0]]
                out.regions[same[0]] = Region(r.rect, name, r.source)
    persons = props.get((IPTCEXT, "PersonInImage"))
    if isinstance(persons, list):
        out.persons = [n for n in (_name(p) for p in persons) if n]
    return out


def _string_list(props: dict, ns: str, local: str) -> list[str]:
    v = props.get((ns, local))
    return [s for s in v if isinstance(s, str)] if isinstance(v, list) else []


def summary(doc: Document) -> tuple:
    """What facefinder owns in a document, in a comparable form (regions rounded to 1e-6):
    equal summaries mean that writing would change nothing facefinder writes."""
    props = properties(doc)
    faces = read_faces(doc, props)

    def canon(source: str) -> list:
        return sorted((tuple(round(v, 6) for v in r.rect), r.name or "") for r in faces.regions
                      if r.source == source)

    mp_items = props.get((MP, "RegionInfo"), {})
    mp_items = mp_items.get((MPRI, "Regions"), []) if isinstance(mp_items, dict) else []
    mp = sorted((tuple(round(v, 6) for v in (_mp_rect(i.get((MPREG, "Rectangle"))) or ())),
                 _name(i.get((MPREG, "PersonDisplayName"))) or "")
                for i in mp_items if isinstance(i, dict))
    return (canon("mwg"), mp, faces.applied_to, faces.persons,
            _string_list(props, DIGIKAM, "TagsList"),
            _string_list(props, LR, "hierarchicalSubject"))


# -- writing -------------------------------------------------------------------------------------
_EMPTY = ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
          '<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="{tool}">\n'
          ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
          '  <rdf:Description rdf:about=""/>\n'
          ' </rdf:RDF>\n'
          '</x:xmpmeta>\n'
          '<?xpacket end="w"?>')


def new_document(tool: str = "facefinder") -> Document:
    """An empty XMP document (what a new sidecar starts from)."""
    return parse(_EMPTY.replace("{tool}", tool).encode("utf-8"))


def serialize(doc: Document) -> bytes:
    """The document as UTF-8, without an XML declaration (as XMP sidecars are written), its
    top-level nodes (the packet wrapper, comments, the root) one to a line."""
    return ("\n".join(n.toxml() for n in doc.childNodes) + "\n").encode("utf-8")


def _fmt(v: float) -> str:
    return f"{min(max(v, 0.0), 1.0):.6f}"


def _escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _fragment(doc: Document, xml: str) -> Element:
    """Parse an element written here (with its namespace declarations) into ``doc``."""
    decls = " ".join(f'xmlns:{p}="{u}"' for u, p in PREFIXES.items())
    wrapper = minidom.parseString(f"<w {decls}>{xml}</w>".encode("utf-8"))
    return doc.importNode(_elements(wrapper.documentElement)[0], True)


def _find_properties(doc: Document, ns: str, local: str) -> list[tuple[Element, Element]]:
    """(description, property element) for every place a top-level property is written."""
    return [(d, c) for d in descriptions(doc) for c in _elements(d) if _is(c, ns, local)]


def _main_description(doc: Document) -> Element:
    found = descriptions(doc)
    if found:
        return found[0]
    rdf = find_rdf(doc)
    desc = doc.createElementNS(RDF, "rdf:Description")
    desc.setAttributeNS(RDF, "rdf:about", "")
    rdf.appendChild(desc)
    return desc


def _list_items(prop: Element) -> tuple[Element | None, list[Element]]:
    """The array element (rdf:Bag/Seq/Alt) of an array-valued property and its rdf:li items."""
    for c in _elements(prop):
        if c.namespaceURI == RDF and c.localName in ("Bag", "Seq", "Alt"):
            return c, [li for li in _elements(c) if _is(li, RDF, "li")]
    return None, []


def _struct_children(prop: Element) -> list[Element]:
    """The property elements of a struct-valued property, whatever its RDF form."""
    if prop.getAttributeNS(RDF, "parseType") == "Resource":
        return _elements(prop)
    kids = _elements(prop)
    if kids and _is(kids[0], RDF, "Description"):
        return _elements(kids[0])
    return kids


def _struct_attributes(prop: Element) -> dict[Key, tuple[str, str]]:
    """The struct fields written as attributes: (ns, local) -> (qualified name, value)."""
    out = {}
    holders = [prop] + [k for k in _elements(prop) if _is(k, RDF, "Description")]
    for el in holders:
        for a in el.attributes.values():
            if a.namespaceURI not in (None, XMLNS, XML, RDF):
                out[(a.namespaceURI, a.localName)] = (a.name, a.value)
    return out


@dataclass
class _Replaced:
    names: set[str] = field(default_factory=set)  # names of regions replaced by ours
    kept: set[str] = field(default_factory=set)  # names of other regions kept


def _rebuild_regions(doc: Document, ns_struct: tuple[str, str], ns_list: tuple[str, str],
                     owned: set[Key], ours_xml: list[str], head_xml: str,
                     reader, ours: list[Region], done: _Replaced) -> None:
    """Replace a region struct (MWG's or Microsoft's) with one that holds the kept regions of
    other programs and ours; its other fields are kept."""
    places = _find_properties(doc, *ns_struct)
    where, position = (places[0][0], places[0][1]) if places else (_main_description(doc), None)
    kept_items: list[Element] = []
    other_fields: list[Element] = []
    other_attrs: dict[Key, tuple[str, str]] = {}
    for _desc, prop in places:
        for k, (qname, val) in _struct_attributes(prop).items():
            if k not in owned:
                other_attrs.setdefault(k, (qname, val))
        for child in _struct_children(prop):
            key = (child.namespaceURI, child.localName)
            if key == ns_list:
                for li in _list_items(child)[1]:
                    rect, name, is_face = reader(value(li))
                    if is_face and rect is not None and \
                            any(iou(rect, o.rect) > SAME_FACE_IOU for o in ours):
                        if name:
                            done.names.add(name)
                        continue
                    if is_face and name:
                        done.kept.add(name)
                    kept_items.append(li)
            elif key not in owned:
                other_fields.append(child)
    if not ours and not kept_items and not places:
        return
    new = _fragment(doc, head_xml.replace("{items}", "".join(ours_xml)))
    array = _list_items(next(c for c in _elements(new) if _is(c, *ns_list)))[0]
    first_ours = _elements(array)[0] if ours_xml else None
    for li in kept_items:  # other programs' regions first, in their order
        li.parentNode.removeChild(li)
        array.insertBefore(li, first_ours)
    for child in other_fields:
        child.parentNode.removeChild(child)
        new.appendChild(child)
    for (_ns, _local), (qname, val) in other_attrs.items():
        el = doc.createElementNS(_ns, qname)
        el.appendChild(doc.createTextNode(val))
        new.appendChild(el)
    _place(where, new, position)
    _indent(new, _depth(new), set(kept_items) | set(other_fields))
    for desc, prop in places[1:]:
        desc.removeChild(prop)


def _place(parent: Element, new: Element, old: Element | None) -> None:
    """Put ``new`` where ``old`` was, or last in ``parent`` on a line of its own."""
    if old is not None:
        parent.replaceChild(new, old)
        return
    doc = parent.ownerDocument
    depth = _depth(new) if new.parentNode is not None else _depth(parent) + 1
    last = parent.lastChild
    if last is not None and last.nodeType == last.TEXT_NODE and not last.data.strip():
        parent.insertBefore(doc.createTextNode("\n" + " " * depth), last)
        parent.insertBefore(new, last)
    else:
        parent.appendChild(doc.createTextNode("\n" + " " * depth))
        parent.appendChild(new)
        parent.appendChild(doc.createTextNode("\n" + " " * (depth - 1)))


def _depth(el: Element) -> int:
    n, node = 0, el.parentNode
    while node is not None and node.nodeType == node.ELEMENT_NODE:
        n, node = n + 1, node.parentNode
    return n


def _indent(el: Element, depth: int, leave: set = frozenset()) -> None:
    """Lay out an element facefinder wrote one child to a line (``leave``: others' elements,
    whose inside is kept as it was)."""
    kids = _elements(el)
    if not kids or el in leave or el.getAttributeNS(RDF, "parseType") == "Literal":
        return
    if any(c.nodeType == c.TEXT_NODE and c.data.strip() for c in el.childNodes):
        return
    doc = el.ownerDocument
    for c in list(el.childNodes):
        if c.nodeType == c.TEXT_NODE:
            el.removeChild(c)
    for c in kids:
        el.insertBefore(doc.createTextNode("\n" + " " * (depth + 1)), c)
        _indent(c, depth + 1, leave)
    el.appendChild(doc.createTextNode("\n" + " " * depth))


def _mwg_reader(dims: tuple[int, int]):
    def read(item):
        if not isinstance(item, dict):
            return None, None, False
        return _mwg_rect(item.get((MWGRS, "Area")), dims), _name(item.get((MWGRS, "Name"))), \
            _is_face(item)

    return read


def _rescale_pixel_areas(doc: Document, old: tuple[int, int], new: tuple[int, int]) -> None:
    """Regions of other programs given in pixels of the old AppliedToDimensions, moved to the
    new ones (facefinder writes the image's size there; normalized regions need nothing)."""
    sx, sy = new[0] / old[0], new[1] / old[1]
    for _desc, prop in _find_properties(doc, MWGRS, "Regions"):
        for area in prop.getElementsByTagNameNS(MWGRS, "Area"):
            fields = value(area)
            if not isinstance(fields, dict) or \
                    str(fields.get((STAREA, "unit"), "")).strip().lower() != "pixel":
                continue
            holders = [area] + [d for d in _elements(area) if _is(d, RDF, "Description")]
            for local, scale in (("x", sx), ("w", sx), ("y", sy), ("h", sy)):
                number = _number(fields.get((STAREA, local)))
                if number is None:
                    continue
                text = f"{number * scale:.2f}"
                for h in holders:
                    if h.hasAttributeNS(STAREA, local):
                        h.getAttributeNodeNS(STAREA, local).value = text
                    for c in _elements(h):
                        if _is(c, STAREA, local):
                            for t in list(c.childNodes):
                                c.removeChild(t)
                            c.appendChild(doc.createTextNode(text))


def _mp_reader(item):
    if not isinstance(item, dict):
        return None, None, False
    return _mp_rect(item.get((MPREG, "Rectangle"))), \
        _name(item.get((MPREG, "PersonDisplayName"))), True


def _set_list(doc: Document, ns: str, local: str, kind: str, add: list[str],
              remove: set[str]) -> None:
    """Update an array of text (keeping its other entries, in order): take out ``remove``,
    append ``add`` where missing. Left untouched when nothing changes."""
    places = _find_properties(doc, ns, local)
    current: list[str] = []
    for _desc, prop in places:
        v = value(prop)
        current.extend(s for s in (v if isinstance(v, list) else [v]) if isinstance(s, str)
                       and s not in current)
    wanted = [s for s in current if s not in remove]
    wanted += [s for s in add if s not in wanted]
    if wanted == current:
        return
    if places:
        array = _list_items(places[0][1])[0]
        kind = array.localName if array is not None else kind
    prefix = PREFIXES[ns]
    items = "".join(f"<rdf:li>{_escape(s)}</rdf:li>" for s in wanted)
    new = _fragment(doc, f"<{prefix}:{local}><rdf:{kind}>{items}</rdf:{kind}></{prefix}:{local}>")
    if places:
        _place(places[0][0], new, places[0][1])
        for desc, prop in places[1:]:
            desc.removeChild(prop)
    elif wanted:
        _place(_main_description(doc), new, None)
    else:
        return
    _indent(new, _depth(new))


def set_faces(doc: Document, ours: list[Region], stored_size: tuple[int, int]) -> None:
    """Write facefinder's named faces into ``doc`` (in place).

    ``ours``: one region per named face, rectangles normalized to the stored image;
    ``stored_size``: the stored image's (width, height) in pixels (MWG's AppliedToDimensions).
    Regions of other programs over other faces, and every other property, stay as they are."""
    w, h = stored_size
    done = _Replaced()
    regions = properties(doc).get((MWGRS, "Regions"))
    old_dims = _dimensions(regions.get((MWGRS, "AppliedToDimensions"))) \
        if isinstance(regions, dict) else None
    if old_dims and old_dims != (w, h):
        _rescale_pixel_areas(doc, old_dims, (w, h))
    mwg_items = [
        f'<rdf:li rdf:parseType="Resource"><mwg-rs:Name>{_escape(r.name)}</mwg-rs:Name>'
        f'<mwg-rs:Type>Face</mwg-rs:Type><mwg-rs:Area stArea:x="{_fmt(r.rect[0] + r.rect[2] / 2)}"'
        f' stArea:y="{_fmt(r.rect[1] + r.rect[3] / 2)}" stArea:w="{_fmt(r.rect[2])}"'
        f' stArea:h="{_fmt(r.rect[3])}" stArea:unit="normalized"/></rdf:li>'
        for r in ours]
    _rebuild_regions(
        doc, (MWGRS, "Regions"), (MWGRS, "RegionList"),
        {(MWGRS, "AppliedToDimensions"), (MWGRS, "RegionList")}, mwg_items,
        f'<mwg-rs:Regions rdf:parseType="Resource"><mwg-rs:AppliedToDimensions stDim:w="{w}" '
        f'stDim:h="{h}" stDim:unit="pixel"/><mwg-rs:RegionList><rdf:Bag>{{items}}</rdf:Bag>'
        '</mwg-rs:RegionList></mwg-rs:Regions>',
        _mwg_reader((w, h)), ours, done)
    mp_items = [
        f'<rdf:li rdf:parseType="Resource"><MPReg:Rectangle>{_fmt(r.rect[0])}, {_fmt(r.rect[1])},'
        f' {_fmt(r.rect[2])}, {_fmt(r.rect[3])}</MPReg:Rectangle><MPReg:PersonDisplayName>'
        f'{_escape(r.name)}</MPReg:PersonDisplayName></rdf:li>'
        for r in ours]
    _rebuild_regions(
        doc, (MP, "RegionInfo"), (MPRI, "Regions"), {(MPRI, "Regions")}, mp_items,
        '<MP:RegionInfo rdf:parseType="Resource"><MPRI:Regions><rdf:Bag>{items}</rdf:Bag>'
        '</MPRI:Regions></MP:RegionInfo>',
        _mp_reader, ours, done)
    names = list(dict.fromkeys(r.name for r in ours if r.name))
    stale = done.names - done.kept - set(names)
    _set_list(doc, IPTCEXT, "PersonInImage", "Bag", names, stale)
    _set_list(doc, DIGIKAM, "TagsList", "Seq", [PEOPLE_TAG + n for n in names],
              {PEOPLE_TAG + n for n in stale})
    _set_list(doc, LR, "hierarchicalSubject", "Bag", [PEOPLE_KEYWORD + n for n in names],
              {PEOPLE_KEYWORD + n for n in stale})
    _declare_namespaces(doc)


def _declare_namespaces(doc: Document) -> None:
    """Make sure every prefix used is declared where it is used: on the rdf:Description that
    holds it where that is free (so a region list declares stArea once, not on every area),
    else on the element itself (an element moved out of a removed one may have lost the
    declaration it relied on)."""

    def bindings(el: Element) -> dict[str, str]:
        out: dict[str, str] = {}
        chain = []
        node = el
        while node is not None and node.nodeType == node.ELEMENT_NODE:
            chain.append(node)
            node = node.parentNode
        for n in reversed(chain):
            for a in n.attributes.values():
                if a.namespaceURI == XMLNS and a.prefix:
                    out[a.localName] = a.value
        return out

    def used(el: Element):
        yield el.prefix, el.namespaceURI
        for a in el.attributes.values():
            if a.prefix and a.namespaceURI not in (XMLNS, XML):
                yield a.prefix, a.namespaceURI
        for c in _elements(el):
            yield from used(c)

    for desc in descriptions(doc):
        scope = bindings(desc)
        for prefix, uri in used(desc):
            if prefix and uri and prefix not in scope:
                desc.setAttributeNS(XMLNS, f"xmlns:{prefix}", uri)
                scope[prefix] = uri

    def walk(el: Element, scope: dict[str, str]) -> None:
        scope = dict(scope)
        for a in el.attributes.values():
            if a.namespaceURI == XMLNS and a.prefix:
                scope[a.localName] = a.value
        for prefix, uri in [(el.prefix, el.namespaceURI)] + [
                (a.prefix, a.namespaceURI) for a in el.attributes.values()
                if a.prefix and a.namespaceURI not in (XMLNS, XML)]:
            if prefix and uri and scope.get(prefix) != uri:
                el.setAttributeNS(XMLNS, f"xmlns:{prefix}", uri)
                scope[prefix] = uri
        for c in _elements(el):
            walk(c, scope)

    walk(doc.documentElement, {})
