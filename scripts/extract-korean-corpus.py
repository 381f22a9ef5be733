#!/usr/bin/env python3
"""Extracts the Korean prose of the Apache HTTP Server manual into resources/corpus.

Source: Debian's apache2-doc package (Apache-2.0), /usr/share/doc/apache2-doc/manual/ko/.
Writes one JSON Lines record per manual page, {"title": ..., "source": ..., "text": ...}, with
one paragraph per line of "text". Only paragraphs that are mostly Hangul are kept, so the
untranslated (English) pages and code samples drop out.

    apt-get download apache2-doc && dpkg -x apache2-doc_*.deb apache2-doc
    scripts/extract-korean-corpus.py apache2-doc/usr/share/doc/apache2-doc/manual/ko \
        resources/corpus/ko-httpd-manual.jsonl
"""
import html.parser
import json
import pathlib
import re
import sys

BLOCKS = {"p", "li", "dd", "dt", "h1", "h2", "h3", "h4", "td", "th", "blockquote"}
SKIPPED = {"script", "style", "pre", "div#page-header", "div#path", "div#footer", "div#quickview",
           "div.toplang", "div.bottomlang", "div#comments_section", "div.up", "div.top"}


def hangul_share(text):
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if "\uac00" <= c <= "\ud7a3") / len(letters)


class ManualPage(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []          # (tag, skipped) of open elements
        self.paragraphs = []
        self.current = []
        self.title = ""
        self.in_title = False

    def skipping(self):
        return any(skipped for _, skipped in self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        keys = {tag, f"{tag}#{attrs.get('id', '')}"} | {f"{tag}.{c}" for c in attrs.get("class", "").split()}
        if tag in ("br", "img", "meta", "link", "input", "hr"):
            return
        if tag in BLOCKS:
            self.flush()
        self.stack.append((tag, bool(keys & SKIPPED)))
        self.in_title = tag == "title"

    def handle_endtag(self, tag):
        if tag in BLOCKS:
            self.flush()
        while self.stack:
            open_tag, _ = self.stack.pop()
            if open_tag == tag:
                break
        self.in_title = False

    def handle_data(self, data):
        if self.in_title:
            self.title += data
        elif not self.skipping():
            self.current.append(data)

    def flush(self):
        text = re.sub(r"\s+", " ", "".join(self.current)).strip()
        self.current = []
        if len(text) >= 20 and hangul_share(text) >= 0.5:
            self.paragraphs.append(text)


def main(manual, output):
    manual = pathlib.Path(manual)
    with open(output, "w", encoding="utf-8") as out:
        for page in sorted(manual.rglob("*.html")):
            parser = ManualPage()
            parser.feed(page.read_bytes().decode("euc-kr", errors="replace"))
            parser.flush()
            if len(parser.paragraphs) < 2 or any("\ufffd" in p for p in parser.paragraphs):
                continue
            title = parser.title.split(" - Apache HTTP Server")[0].strip()
            record = {"title": title, "source": f"manual/ko/{page.relative_to(manual)}",
                      "text": "\n".join(parser.paragraphs)}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])
