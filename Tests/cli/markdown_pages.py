"""What the docs checks share (Tests/cli/docs_links.sh and Tests/cli/docs_citations.sh import it): a Markdown
page's lines outside fenced code, its headings, and the one-line report with the failures before it."""
import re
import sys

FENCE = re.compile(r'^ {0,3}(`{3,}|~{3,})')
ATX = re.compile(r'^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$')
SETEXT = re.compile(r'^ {0,3}(=+|-+)[ \t]*$')


def lines_outside_code(text):
    """(line number, line) for every line outside fenced code blocks."""
    fence = None
    for number, line in enumerate(text.split('\n'), 1):
        match = FENCE.match(line)
        if fence is None:
            if match:
                fence = match.group(1)
                continue
            yield number, line
        elif match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence) \
                and line.strip() == match.group(1):
            fence = None


def lines_with_headings(text):
    """(line, heading) for every line outside code: `heading` is the source text of the heading this line
    completes (an ATX heading, or the text above a setext underline), else None."""
    previous = None
    for _, line in lines_outside_code(text):
        heading = None
        match = ATX.match(line)
        if match:
            heading = match.group(2)
        elif previous and previous.strip() and SETEXT.match(line) and not previous.lstrip().startswith(('-', '*', '|')):
            heading = previous
        previous = line
        yield line, heading


def report(check, failures, summary, wrong):
    """Prints each failure, then `check: summary, all resolve`, or `check: N <wrong> of summary` and exits 1."""
    for failure in failures:
        print('FAIL ' + failure, file=sys.stderr)
    if failures:
        print(f'{check}: {len(failures)} {wrong} of {summary}', file=sys.stderr)
        sys.exit(1)
    print(f'{check}: {summary}, all resolve')
