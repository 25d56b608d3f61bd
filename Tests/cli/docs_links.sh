#!/usr/bin/env bash
# Docs links: every relative link in README.md, docs/**/*.md and tools/README.md must point to a file or directory
# that exists, and a link with a #fragment into a Markdown page must name an anchor that one of that page's headings
# produces (or an explicit <a id="..."> / <a name="...">). Anchors follow GitHub's rules: the heading's text (inline
# code and link text kept, markup dropped) in lowercase, every character that is not a letter, digit, space, `-` or
# `_` dropped, spaces turned into `-`, and a repeated anchor suffixed -1, -2, ... Links inside fenced code blocks
# and inline code are not links; absolute URLs (http:, https:, mailto:, //) are not checked. DOCS="a.md b.md" checks
# those files instead (to test this script). Run by `make test` after Tests/cli/readme_examples.sh.
set -uo pipefail
cd "$(dirname "$0")/../.."
command -v python3 >/dev/null || { echo "docs links: python3 is missing (make deps installs it)" >&2; exit 1; }

if [ -n "${DOCS:-}" ]; then
  read -r -a PAGES <<<"$DOCS"
else
  PAGES=(README.md)
  while IFS= read -r page; do PAGES+=("$page"); done < <(find docs -name '*.md' -type f | LC_ALL=C sort)
  PAGES+=(tools/README.md)
fi

PYTHONPATH=Tests/cli PYTHONDONTWRITEBYTECODE=1 exec python3 - "${PAGES[@]}" <<'PYTHON'
import os
import re
import sys
import urllib.parse

from markdown_pages import lines_outside_code, lines_with_headings, report

CODE_SPAN = re.compile(r'(`+)(.+?)\1', re.S)
INLINE_LINK = re.compile(r'!?\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)')
REFERENCE_DEF = re.compile(r'^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$')
HTML_HREF = re.compile(r'<a\s[^>]*href="([^"]+)"', re.I)
HTML_ANCHOR = re.compile(r'<a\s[^>]*(?:id|name)="([^"]+)"', re.I)
EXTERNAL = re.compile(r'^([a-zA-Z][a-zA-Z0-9+.-]*:|//)')


def slug(heading):
    """GitHub's anchor for a heading's source text."""
    text = CODE_SPAN.sub(lambda m: m.group(2).strip(), heading)
    text = re.sub(r'!?\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\([^)]*\)', r'\1', text)   # links and images: their text
    text = re.sub(r'<[^>]+>', '', text)                                           # inline HTML
    text = re.sub(r'(\*\*|\*|~~)', '', text)                                     # emphasis markers
    text = text.strip().lower()
    text = ''.join(c for c in text if c.isalnum() or c in ' -_')
    return text.replace(' ', '-')


ANCHORS = {}


def anchors(path):
    """Every anchor the page at `path` produces."""
    if path in ANCHORS:
        return ANCHORS[path]
    with open(path, encoding='utf-8') as f:
        text = f.read()
    found, counts = set(), {}
    for line, heading in lines_with_headings(text):
        for name in HTML_ANCHOR.findall(line):
            found.add(name)
        if heading is None:
            continue
        base = slug(heading)
        n = counts.get(base, 0)
        counts[base] = n + 1
        found.add(base if n == 0 else f'{base}-{n}')
    ANCHORS[path] = found
    return found


def links(text):
    """(line number, target) of every link outside code."""
    for number, line in lines_outside_code(text):
        bare = CODE_SPAN.sub('', line)
        for match in INLINE_LINK.finditer(bare):
            yield number, match.group(2)
        match = REFERENCE_DEF.match(bare)
        if match:
            yield number, match.group(1)
        for target in HTML_HREF.findall(bare):
            yield number, target


failures, checked, with_anchor = [], 0, 0
pages = sys.argv[1:]
for page in pages:
    with open(page, encoding='utf-8') as f:
        text = f.read()
    for number, target in links(text):
        if not target or EXTERNAL.match(target):
            continue
        checked += 1
        path, _, fragment = target.partition('#')
        path = urllib.parse.unquote(path)
        resolved = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
        where = f'{page}:{number}: ({target})'
        if not os.path.exists(resolved):
            failures.append(f'{where}: {resolved} does not exist')
            continue
        if not fragment:
            continue
        with_anchor += 1
        if os.path.isdir(resolved) or not resolved.endswith('.md'):
            failures.append(f'{where}: an anchor into {resolved}, which is not a Markdown page')
            continue
        if urllib.parse.unquote(fragment) not in anchors(resolved):
            failures.append(f'{where}: no heading of {resolved} makes the anchor #{fragment}')

report('docs links', failures, f'{checked} relative links ({with_anchor} with an anchor) in {len(pages)} pages',
       'broken')
PYTHON
