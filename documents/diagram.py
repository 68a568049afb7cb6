"""BPMN diagram interchange (DI) -> SVG, with the path a case took: done steps green, current highlighted.

Only the DI section is used for geometry (BPMNShape bounds, BPMNEdge waypoints), so the drawing matches
what any BPMN modeler shows for the same file. Element names are escaped; nothing from the file is
emitted as markup. The XML is our own workflow definition, parsed with the stdlib parser (no DTDs or
external entities are resolved by ElementTree).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from xml.sax.saxutils import escape

from .errors import DocumentError

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}
DONE = ("#e3f4e1", "#2e7d32")
CURRENT = ("#fff1cc", "#e65100")
PENDING = ("#ffffff", "#757575")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _elements(root: ET.Element) -> dict[str, tuple[str, str, str, str]]:
    """id -> (type, name, sourceRef, targetRef) for every flow element in every process."""
    out = {}
    for el in root.iter():
        ident = el.get("id")
        if ident and el.tag.startswith("{" + NS["bpmn"] + "}"):
            out[ident] = (_local(el.tag), el.get("name", ""), el.get("sourceRef", ""), el.get("targetRef", ""))
    return out


def _wrap(name: str, width: float, size: float) -> list[str]:
    per_line = max(2, int(width / size))
    lines, line, used = [], "", 0.0
    for ch in name:
        w = 1.0 if ord(ch) >= 0x2E80 else 0.55
        if used + w > per_line:
            lines.append(line)
            line, used = "", 0.0
        line += ch
        used += w
    if line:
        lines.append(line)
    return lines[:4]


def _text(cx: float, cy: float, lines: list[str], size: float) -> str:
    top = cy - (len(lines) - 1) * size * 0.6
    return "".join(
        f'<text x="{cx:.1f}" y="{top + i * size * 1.2:.1f}" font-size="{size}" text-anchor="middle" '
        f'dominant-baseline="middle">{escape(t)}</text>' for i, t in enumerate(lines)
    )


def _shape(kind: str, x: float, y: float, w: float, h: float, name: str, colours: tuple[str, str], strong: bool) -> str:
    fill, stroke = colours
    sw = 3 if strong else 1.5
    cx, cy = x + w / 2, y + h / 2
    if kind.endswith("Event"):
        r = min(w, h) / 2
        extra = 3 if kind == "endEvent" else sw
        body = f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="{fill}" stroke="{stroke}" stroke-width="{extra}"/>'
        label = _text(cx, y + h + 10, _wrap(name, 90, 10), 10) if name else ""
        return body + label
    if kind.endswith("Gateway"):
        pts = f"{cx:.1f},{y:.1f} {x + w:.1f},{cy:.1f} {cx:.1f},{y + h:.1f} {x:.1f},{cy:.1f}"
        body = f'<polygon points="{pts}" fill="{fill}" stroke="{stroke}" stroke-width="{sw}"/>'
        label = _text(cx, y - 8, _wrap(name, 110, 10), 10) if name else ""
        return body + label
    if kind in ("participant", "lane"):
        return (f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="none" stroke="#bdbdbd"/>'
                + _text(x + 50, y + 12, [name[:16]], 10))
    body = (f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="8" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{sw}"/>')
    return body + _text(cx, cy, _wrap(name, w - 8, 11), 11)


def bpmn_to_svg(bpmn_xml: bytes, done: Iterable[str] = (), current: Iterable[str] = ()) -> str:
    """Draw the BPMN DI; `done`/`current` are BPMN element ids (tasks, events, gateways, flows)."""
    try:
        root = ET.fromstring(bpmn_xml)
    except ET.ParseError as exc:
        raise DocumentError(f"BPMN diagram: not well-formed XML: {exc}") from exc
    done, current = set(done), set(current)
    elements = _elements(root)
    shapes, edges, xs, ys = [], [], [], []
    for shape in root.iter(f"{{{NS['bpmndi']}}}BPMNShape"):
        ref, b = shape.get("bpmnElement", ""), shape.find("dc:Bounds", NS)
        if b is None or ref not in elements:
            continue
        x, y, w, h = (float(b.get(k, 0)) for k in ("x", "y", "width", "height"))
        xs += [x, x + w]
        ys += [y, y + h]
        kind, name = elements[ref][0], elements[ref][1]
        colours = CURRENT if ref in current else DONE if ref in done else PENDING
        item = _shape(kind, x, y, w, h, name, colours, ref in current)
        (shapes.insert(0, item) if kind in ("participant", "lane") else shapes.append(item))
    for edge in root.iter(f"{{{NS['bpmndi']}}}BPMNEdge"):
        ref = edge.get("bpmnElement", "")
        pts = [(float(p.get("x", 0)), float(p.get("y", 0))) for p in edge.findall("di:waypoint", NS)]
        if len(pts) < 2 or ref not in elements:
            continue
        xs += [p[0] for p in pts]
        ys += [p[1] for p in pts]
        _, name, src, dst = elements[ref]
        taken = ref in done or (src in done and (dst in done or dst in current))
        colour = DONE[1] if taken else "#9e9e9e"
        marker = "arrow-done" if taken else "arrow"
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        edges.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="{2.2 if taken else 1.2}" '
                     f'marker-end="url(#{marker})"/>')
        if name:
            mx, my = pts[len(pts) // 2 - 1]
            edges.append(_text(mx + 6, my - 8, [name[:16]], 9))
    if not xs:
        raise DocumentError("BPMN diagram: the file has no diagram interchange (BPMNDiagram) section")
    pad = 30
    x0, y0, x1, y1 = min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad
    defs = "".join(
        f'<marker id="{mid}" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{col}"/></marker>'
        for mid, col in (("arrow", "#9e9e9e"), ("arrow-done", DONE[1]))
    )
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{x0:.0f} {y0:.0f} {x1 - x0:.0f} {y1 - y0:.0f}" '
            f'width="{x1 - x0:.0f}" height="{y1 - y0:.0f}"><defs>{defs}</defs>'
            + "".join(shapes) + "".join(edges) + "</svg>")
