#!/usr/bin/env python3
"""Writes what Python's str.lower(), str.isspace() and str.split() do to every code point.

Run from this folder with the Python whose behaviour the metrics follow (3.11: Unicode 14.0):
    python3 make_tables.py
Every code point from U+0000 to U+10FFFF but the surrogates is looked at. The files:
  lower.txt           each code point that chr(c).lower() changes, and what it becomes (hex);
  space.txt           each code point for which chr(c).isspace() is true (hex);
  sigma_context.txt   the code points that decide whether a capital sigma ends a word in
                      str.lower(): "ignorable" ones are skipped over, "cased" ones (and not
                      ignorable) are letters, every other code point ends the search; found
                      through lower() itself (see sigma_class);
  sentences.jsonl     whole texts with str.lower() and str.split() of each.
"""
import json
import sys
import unicodedata

SURROGATES = range(0xD800, 0xE000)
SIGMA, FINAL_SIGMA, ALPHA = "\u03a3", "\u03c2", "\u03b1"


def code_points():
    return (c for c in range(0x110000) if c not in SURROGATES)


def hex_of(text):
    return " ".join("%04X" % ord(ch) for ch in text)


def header(out, what):
    out.write("# %s\n# Python %s, Unicode %s. Written by make_tables.py; do not edit.\n"
              % (what, sys.version.split()[0], unicodedata.unidata_version))


def ranges(points):
    """Consecutive code points as (first, last) pairs."""
    runs = []
    for c in points:
        if runs and runs[-1][1] == c - 1:
            runs[-1][1] = c
        else:
            runs.append([c, c])
    return runs


def write_ranges(out, points):
    for first, last in ranges(points):
        out.write("%04X\n" % first if first == last else "%04X..%04X\n" % (first, last))


def sigma_class(c):
    """How lower() treats c beside a capital sigma.

    Before Σ, lower() skips case-ignorable code points and asks whether the first other one is
    cased. "XΣ" therefore ends in ς when X is cased and not ignorable; "αXΣ" ends in ς when X is
    ignorable (α is found) or cased. Together they tell the three kinds apart. After Σ the same
    search runs forward: "αΣX" keeps σ exactly when X is cased and not ignorable, checked here.
    """
    kind = None
    if (chr(c) + SIGMA).lower()[-1] == FINAL_SIGMA:
        kind = "cased"
    elif (ALPHA + chr(c) + SIGMA).lower()[-1] == FINAL_SIGMA:
        kind = "ignorable"
    followed_keeps_medial = (ALPHA + SIGMA + chr(c)).lower()[1] != FINAL_SIGMA
    assert followed_keeps_medial == (kind == "cased"), "U+%04X: sigma's context differs before and after" % c
    return kind


SENTENCES = [
    "ΟΔΥΣΣΕΥΣ",                     # final sigma at the end of a word, medial ones before it
    "ΣΑΣ ΣΑΣ. Σ ΑΣ",                # word ends before a space, a full stop; a lone capital sigma
    "ΑΣ.Β ΑΣ'Β ΑΣ\u0301 ΑΣ\u00adΒ",  # case-ignorable code points between sigma and a letter
    "\u0130stanbul İİ",              # İ lowers to i and a combining dot above: two code points
    "ÉCOLE Ａｂｃ ＡＢＣ Ǆ ǅ ᾼ Ⅻ Ⓐ 𐐀",  # accented, full-width, digraphs, title case, Roman, circled, Deseret
    "a\u00a0b\u3000c\u2028d\u0085e\u001cf\u1680g\u202fh\u205fi",  # exotic spaces split
    "a\u200bb\ufeffc \u180e d",       # zero width space, BOM and Mongolian vowel separator do not
    "  lead  and\ttrail \n",
]


def main():
    with open("lower.txt", "w", encoding="ascii") as out:
        header(out, "Code point, then chr(c).lower() (hex), for every c that lower() changes.")
        for c in code_points():
            lowered = chr(c).lower()
            if lowered != chr(c):
                out.write("%04X %s\n" % (c, hex_of(lowered)))
    with open("space.txt", "w", encoding="ascii") as out:
        header(out, "Code points c with chr(c).isspace().")
        write_ranges(out, [c for c in code_points() if chr(c).isspace()])
    classes = {c: sigma_class(c) for c in code_points()}
    with open("sigma_context.txt", "w", encoding="ascii") as out:
        header(out, "Code points lower() skips (ignorable) or counts as letters (cased) beside a capital sigma.")
        for kind in ("ignorable", "cased"):
            out.write("[%s]\n" % kind)
            write_ranges(out, [c for c, k in classes.items() if k == kind])
    with open("sentences.jsonl", "w", encoding="ascii") as out:
        for text in SENTENCES:
            out.write(json.dumps({"text": text, "lower": text.lower(), "split": text.split()}) + "\n")


if __name__ == "__main__":
    main()
