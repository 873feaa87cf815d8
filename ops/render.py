"""Fill a config template from ops/ (docs/deploy.md):

    python3 ops/render.py ops/nginx/showboard.conf SERVER_NAME=fans.example.org ... > OUT

Each @NAME@ becomes its value. A line holding a comma-separated value is repeated once per
item (one `server` line per app host). A placeholder without a value, or a value the template
does not use, is an error: a typo must not reach production as a literal @NAME@."""

from __future__ import annotations

import re
import sys
from pathlib import Path

PLACEHOLDER = re.compile(r"@([A-Z][A-Z0-9_]*)@")


def render(template: str, values: dict[str, str]) -> str:
    used = set(PLACEHOLDER.findall(template))
    if missing := sorted(used - values.keys()):
        raise SystemExit(f"render: no value for {', '.join(missing)}")
    if unused := sorted(values.keys() - used):
        raise SystemExit(f"render: the template has no {', '.join(unused)}")
    lines = []
    for line in template.splitlines(keepends=True):
        names = PLACEHOLDER.findall(line)
        lists = [name for name in names if "," in values[name]]
        if len(lists) > 1:
            raise SystemExit(f"render: one list per line, not {', '.join(lists)}")
        items = values[lists[0]].split(",") if lists else [None]
        for item in items:
            lines.append(
                PLACEHOLDER.sub(
                    lambda match, item=item, lists=lists: (
                        item.strip() if match.group(1) in lists else values[match.group(1)]
                    ),
                    line,
                )
            )
    return "".join(lines)


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit(__doc__)
    values = dict(arg.split("=", 1) for arg in argv[1:])
    sys.stdout.write(render(Path(argv[0]).read_text(), values))


if __name__ == "__main__":
    main(sys.argv[1:])
