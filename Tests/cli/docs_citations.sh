#!/usr/bin/env bash
# Docs citations: every text file under Sources/, Tests/, tools/, docs/ and deploy/, and README.md, Makefile,
# Package.swift and .ci/run, must cite only pages that exist, by sections that exist
# (docs/development/README.md "Docs and their tests"). It fails on:
#   - an upper-case name of a reference page or of the house style (the notes they were written from, which are
#     not in the repository): the pages are docs/reference/perceiver.md, docs/reference/serving.md and
#     docs/development/style.md;
#   - a `docs/....md` or `README.md` path that does not exist (relative to the repository root; the two reference
#     pages are exempt from this rule alone, as they quote other projects' docs/ paths), or a script path under
#     `tools/` that does not exist (`tools/qa/soak.sh`);
#   - a Swift file (`PassCost.swift`, `Runtime/PassCost.swift`, `PerceiverEngine/Model/Runtime/PassCost.swift`)
#     that is no file under Sources/ or Tests/ (nor a path from the root) with that name or path ending;
#   - a path followed by a quoted heading (`docs/security.md "Hostile input"`, also `...md's "..."` and
#     `...md, "..."`) when no heading of that page has that text;
#   - a reference page followed by section numbers (`docs/reference/perceiver.md A.7, B.9.5-7`,
#     `docs/reference/serving.md 2.2 and 2.3`, `TL;DR 2`) when one of them (each end of a range) has no heading of
#     that number in the page (TL;DR N: no item N in the TL;DR list), or when the citation has no path
#     (a page name alone before its section numbers).
# FILES="a b" checks those files instead (to test this script). Run by `make test` after Tests/cli/docs_links.sh.
set -uo pipefail
cd "$(dirname "$0")/../.."
command -v python3 >/dev/null || { echo "docs citations: python3 is missing (make deps installs it)" >&2; exit 1; }

if [ -n "${FILES:-}" ]; then
  read -r -a SCANNED <<<"$FILES"
else
  SCANNED=(README.md Makefile Package.swift .ci/run)
  while IFS= read -r file; do SCANNED+=("$file"); done \
    < <(find Sources Tests tools docs deploy -type f -not -path '*/__pycache__/*' | LC_ALL=C sort)
fi

PYTHONPATH=Tests/cli PYTHONDONTWRITEBYTECODE=1 exec python3 - "${SCANNED[@]}" <<'PYTHON'
import os
import re
import sys

from markdown_pages import lines_with_headings, report

REFERENCE_PAGES = {'docs/reference/perceiver.md', 'docs/reference/serving.md'}
# The notes' names, spelled so that this script does not cite them itself.
OLD_NAME = re.compile(r'\b(' + '|'.join(['PERCEIVER', 'SERVING', 'STYLE']) + r')\.md\b')
# A repository path to a Markdown page: docs/... or README.md, not part of a longer path or a repo:path.
PAGE_PATH = re.compile(r'(?<![\w./:@-])((?:docs/[\w./-]*?[\w-]+|README)\.md)\b')
TOOL_PATH = re.compile(r'(?<![\w./:@-])(tools/[\w./-]*[\w-]\.(?:py|sh|txt|md))\b')
SWIFT_FILE = re.compile(r'(?<![\w/+.-])([\w/+.-]*[\w+-]\.swift)\b')
# Names that stand for a kind of file, not a file.
SWIFT_PATTERNS = {'main.swift', 'Type+Concern.swift'}
QUOTED_HEADING = re.compile(r'''^(?:'s|,)? "([^"]+)"''')
# A reference page's name with whatever path precedes it.
REFERENCE_NAME = re.compile(r'(?<![\w./-])((?:[\w.-]+/)*)(perceiver|serving)\.md\b')
SECTION = r'(?:TL;DR \d+|[A-E](?:\.\d+)+|\d+(?:\.\d+)*)'
PART = SECTION + r'(?:-(?:[A-E]\.)?\d+(?:\.\d+)*)?'
SECTIONS = re.compile(r'^ (' + PART + r'(?:(?:, | and )' + PART + r')*)')


def headings(path, cache={}):
    """(heading texts, section numbers, TL;DR item numbers) of the Markdown page at `path`."""
    if path not in cache:
        texts, numbers, tldr = set(), set(), set()
        in_tldr = False
        with open(path, encoding='utf-8') as f:
            text = f.read()
        for line, heading in lines_with_headings(text):
            if heading is not None:
                texts.add(heading)
                texts.add(heading.replace('`', ''))
                first = heading.split(' ', 1)[0].rstrip('.:')
                if re.fullmatch(r'[A-E](?:\.\d+)+|\d+(?:\.\d+)*', first):
                    numbers.add(first)
                in_tldr = first == 'TL;DR'
                continue
            item = re.match(r'^(\d+)\. ', line)
            if in_tldr and item:
                tldr.add(item.group(1))
        cache[path] = (texts, numbers, tldr)
    return cache[path]


def ends(part):
    """The sections a citation part names: itself, or both ends of a range (`B.9.5-7` -> B.9.5, B.9.7)."""
    first, dash, last = part.partition('-')
    if not dash:
        return [first]
    if last[0].isalpha():
        return [first, last]
    if first.startswith('TL;DR '):
        return [first, 'TL;DR ' + last]
    kept = first.split('.')[:-len(last.split('.'))]
    return [first, '.'.join(kept + [last])]


def check_sections(page, cited, where, failures):
    _, numbers, tldr = headings(page)
    for part in re.split(r', | and ', cited):
        for section in ends(part):
            if section.startswith('TL;DR '):
                if section.split(' ', 1)[1] not in tldr:
                    failures.append(f'{where}: {page} has no TL;DR item {section.split(" ", 1)[1]}')
            elif section not in numbers:
                failures.append(f'{where}: {page} has no section {section}')


SWIFT_FILES = set()
for top in ('Sources', 'Tests'):
    for folder, _, names in os.walk(top):
        SWIFT_FILES.update(os.path.join(folder, name) for name in names if name.endswith('.swift'))


def swift_file_exists(cited):
    return cited in SWIFT_PATTERNS or os.path.isfile(cited) or any(f.endswith('/' + cited) for f in SWIFT_FILES)


failures, citations = [], 0
for file in sys.argv[1:]:
    try:
        with open(file, encoding='utf-8') as f:
            text = f.read()
    except (UnicodeDecodeError, IsADirectoryError):
        continue
    if '\0' in text:
        continue
    for number, line in enumerate(text.split('\n'), 1):
        where = f'{file}:{number}'
        for match in OLD_NAME.finditer(line):
            failures.append(f'{where}: {match.group(0)} is not in the repository: cite '
                            'docs/reference/perceiver.md, docs/reference/serving.md or docs/development/style.md')
        for match in PAGE_PATH.finditer(line):
            page = os.path.normpath(match.group(1))
            citations += 1
            if not os.path.isfile(page):
                if file not in REFERENCE_PAGES:
                    failures.append(f'{where}: {match.group(1)} does not exist')
                continue
            quoted = QUOTED_HEADING.match(line[match.end():])
            if quoted and quoted.group(1) not in headings(page)[0]:
                failures.append(f'{where}: no heading of {page} reads "{quoted.group(1)}"')
        for match in SWIFT_FILE.finditer(line):
            citations += 1
            if not swift_file_exists(match.group(1)):
                failures.append(f'{where}: no Swift file {match.group(1)} under Sources/ or Tests/')
        for match in TOOL_PATH.finditer(line):
            citations += 1
            if not os.path.isfile(match.group(1)):
                failures.append(f'{where}: {match.group(1)} does not exist')
        for match in REFERENCE_NAME.finditer(line):
            prefix, name = match.groups()
            if prefix and not prefix.endswith('reference/'):
                continue                                  # docs/serving.md, another page
            cited = SECTIONS.match(line[match.end():])
            if not cited:
                continue
            citations += 1
            page = f'docs/reference/{name}.md'
            if not prefix:
                failures.append(f'{where}: "{name}.md {cited.group(1)}" without its path: cite {page}')
            check_sections(page, cited.group(1), where, failures)

report('docs citations', failures, f'{citations} citations of pages and sections in {len(sys.argv) - 1} files',
       'wrong')
PYTHON
