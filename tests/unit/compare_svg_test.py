#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""qlite compare's SVG, read back by an XML parser (no KVM needed).

usage: compare_svg_test.py TEST_COMPARE

TEST_COMPARE svg DIR writes linear.svg/.json and log.svg/.json from fixed exit reports
(tests/unit/test_compare.c). check_svg() is also what tests/integration/compare_test.py
runs on a real comparison.
"""
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

NS = "{http://www.w3.org/2000/svg}"
TITLE = re.compile(r"^(reason|device) (.+): ([AB]) (.+) (none|[-+0-9.e]+) exits per (\S+)$")


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def check_svg(svg_path, cmp_json):
    """The bars of svg_path against the comparison's JSON: one group per reason and device
    with a bar for A and one for B, each bar's value (its <title>) the JSON's median per
    unit, heights in the order of the values on the scale the plot says (log or linear,
    log exactly when the values span more than 100x). Returns the bars."""
    root = ET.parse(svg_path).getroot()
    check(root.tag == NS + "svg" and root.get("version") == "1.1", "an SVG 1.1 root element")
    width, height = float(root.get("width")), float(root.get("height"))
    check(root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}", "a viewBox")
    plot = root.find(f".//{NS}g[@id='plot']")
    check(plot is not None and plot.get("class") in ("log", "linear"), "a plot with its scale")
    rows = {(r["section"], r["name"]): r for r in cmp_json["rows"]}
    unit = cmp_json["workload"]["unit"]
    labels = [s["label"] for s in cmp_json["sides"]]
    bars = []
    groups = plot.findall(f"{NS}g[@class='group']")
    check(groups, "no bar groups")
    for g in groups:
        rects = g.findall(f"{NS}rect")
        check(len(rects) == 2, f"{g.get('id')}: two bars, A and B")
        for side, rect in zip("ab", rects):
            check(rect.get("class") == f"bar {side}", f"{g.get('id')}: bar {side} in order")
            m = TITLE.match(rect.find(f"{NS}title").text)
            check(m, f"bar title {rect.find(NS + 'title').text!r}")
            section, name, s, label, value, u = m.groups()
            check(s == side.upper() and label == labels["ab".index(side)] and u == unit,
                  f"bar title {m.group(0)!r}: side, label, unit")
            row = rows.get((section, name))
            check(row is not None, f"bar {section} {name}: not a row of the JSON")
            want = row[side]["per_unit"]["median"] if row[side] else None
            got = None if value == "none" else float(value)
            if want is None:
                check(got is None, f"{section} {name} {side}: no value in the JSON, {got} drawn")
            else:
                check(got is not None and math.isclose(got, want, rel_tol=1e-5),
                      f"{section} {name} {side}: bar {got}, JSON {want}")
            x, y, w, h = (float(rect.get(k)) for k in ("x", "y", "width", "height"))
            check(h >= 0 and w > 0 and 0 <= x and x + w <= width and 0 <= y and y + h <= height,
                  f"{section} {name} {side}: bar inside the picture")
            bars.append((got or 0.0, h, y + h, section, name, side))
    check(len({b[2] for b in bars}) == 1, "every bar stands on one base line")
    positive = [b[0] for b in bars if b[0] > 0]
    check(positive, "every bar is empty")
    spans = max(positive) / min(positive) > 100
    check((plot.get("class") == "log") == spans,
          f"{plot.get('class')} scale for values spanning {max(positive) / min(positive):.0f}x")
    ordered = sorted(bars, key=lambda b: b[0])
    for lo, hi in zip(ordered, ordered[1:]):
        check(lo[1] <= hi[1] + 1e-6, f"bar heights out of order: {lo[3:]} {lo[0]} is taller than "
              f"{hi[3:]} {hi[0]}")
        if lo[0] < hi[0] and lo[0] > 0:
            check(lo[1] < hi[1], f"{lo[3:]} and {hi[3:]}: different values, one height")
    if plot.get("class") == "linear":
        top = max(bars, key=lambda b: b[0])
        for b in bars:
            check(math.isclose(b[1], top[1] * b[0] / top[0], rel_tol=1e-3, abs_tol=0.02),
                  f"linear scale: {b[3:]} {b[0]} has height {b[1]}, not in proportion")
    for section, name in rows:
        r = rows[(section, name)]
        shown = any(r[s] and r[s]["per_unit"] and r[s]["per_unit"]["median"] for s in "ab")
        if section in ("reason", "device") and shown:
            check(any(b[3] == section and b[4] == name for b in bars),
                  f"{section} {name} has exits but no bars")
    return bars


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([sys.argv[1], "svg", d], check=True)
        try:
            for name in ("linear", "log"):
                with open(os.path.join(d, name + ".json")) as f:
                    data = json.load(f)
                bars = check_svg(os.path.join(d, name + ".svg"), data)
                with open(os.path.join(d, name + ".svg")) as f:
                    check(f"class=\"{name}\"" in f.read(), f"{name}: the {name} scale")
                check(len(bars) >= 8, f"{name}: {len(bars)} bars")
        except Failure as e:
            print(f"FAIL: {e}")
            return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
