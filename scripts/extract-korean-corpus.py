#!/usr/bin/env python3
"""Extracts the Korean prose of a translated HTML manual into a JSON Lines corpus.

Writes one record per page, {"title": ..., "source": ..., "text": ...}, with one paragraph per
line of "text". Only paragraphs that are mostly Hangul are kept, so untranslated (English) text
and code samples drop out. An output name ending in .gz is written gzip-compressed.

Two manuals, each a profile (what to skip, the encoding, how titles end):

  httpd: the Apache HTTP Server manual, Debian's apache2-doc (Apache-2.0).
    apt-get download apache2-doc && dpkg -x apache2-doc_*.deb apache2-doc
    scripts/extract-korean-corpus.py httpd apache2-doc/usr/share/doc/apache2-doc/manual/ko \
        resources/corpus/ko-httpd-manual.jsonl

  libreoffice-help: LibreOffice's help, Debian's libreoffice-help-ko (MPL-2.0). Its pages embed
  shared snippets (toolbar icons, notes), so a paragraph already seen on an earlier page is
  dropped.
    apt-get download libreoffice-help-ko && dpkg-deb -x libreoffice-help-ko_*.deb lo
    scripts/extract-korean-corpus.py libreoffice-help lo/usr/share/libreoffice/help/ko \
        resources/corpus/ko-libreoffice-help.jsonl.gz
"""
import gzip
import html.parser
import json
import pathlib
import re
import sys

BLOCKS = {"p", "li", "dd", "dt", "h1", "h2", "h3", "h4", "td", "th", "blockquote"}
# Elements never in a paragraph, as "tag", "tag#id" or "tag.class".
ALWAYS_SKIPPED = {"script", "style", "pre"}

PROFILES = {
    "httpd": {
        "encoding": "euc-kr",
        "skipped": {"div#page-header", "div#path", "div#footer", "div#quickview", "div.toplang",
                    "div.bottomlang", "div#comments_section", "div.up", "div.top"},
        "title_suffix": " - Apache HTTP Server",
        "source_prefix": "manual/ko/",
        "unique_paragraphs": False,
    },
    "libreoffice-help": {
        "encoding": "utf-8",
        "skipped": {"header", "aside", "footer", "div#SearchFrame", "div#DonationFrame", "div.debug"},
        "title_suffix": "",
        "source_prefix": "help/ko/",
        "unique_paragraphs": True,
    },
}


def hangul_share(text):
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if "\uac00" <= c <= "\ud7a3") / len(letters)


class ManualPage(html.parser.HTMLParser):
    def __init__(self, skipped):
        super().__init__(convert_charrefs=True)
        self.skipped_keys = ALWAYS_SKIPPED | skipped
        self.stack = []          # (tag, skipped) of open elements
        self.paragraphs = []
        self.current = []
        self.title = ""
        self.in_title = False

    def skipping(self):
        return any(skipped for _, skipped in self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        keys = {tag, f"{tag}#{attrs.get('id', '')}"} | {f"{tag}.{c}" for c in (attrs.get("class") or "").split()}
        if tag in ("br", "img", "meta", "link", "input", "hr", "base"):
            return
        if tag in BLOCKS:
            self.flush()
        self.stack.append((tag, bool(keys & self.skipped_keys)))
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


def records(manual, profile):
    seen = set()
    for page in sorted(manual.rglob("*.html")):
        parser = ManualPage(profile["skipped"])
        parser.feed(page.read_bytes().decode(profile["encoding"], errors="replace"))
        parser.flush()
        paragraphs = parser.paragraphs
        if profile["unique_paragraphs"]:
            paragraphs = [p for p in paragraphs if p not in seen]
            seen.update(paragraphs)
        if len(paragraphs) < 2 or any("\ufffd" in p for p in paragraphs):
            continue
        title = parser.title
        if profile["title_suffix"]:
            title = title.split(profile["title_suffix"])[0]
        yield {"title": title.strip(), "source": profile["source_prefix"] + str(page.relative_to(manual)),
               "text": "\n".join(paragraphs)}


def main(profile_name, manual, output):
    if profile_name not in PROFILES:
        sys.exit(f"unknown manual '{profile_name}'; expected one of {', '.join(PROFILES)}")
    compressed = output.endswith(".gz")
    with open(output, "wb") as raw:
        # mtime 0 and no name: the same input gives the same bytes.
        stream = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") if compressed else raw
        for record in records(pathlib.Path(manual), PROFILES[profile_name]):
            stream.write((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
        if compressed:
            stream.close()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:4])
