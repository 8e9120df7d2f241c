#!/usr/bin/env bash
# Developer check of one assignment's sealed grading: a temporary course copy, the reference
# solution and the blank release autograded, their scores per part printed.
#   bash classroom/grading/dev/try.sh a2_backward [extra student notebooks as name=path ...]
set -euo pipefail
A=$1; shift
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
T=$(mktemp -d)
cp -r "$REPO/classroom" "$T/"
cd "$T/classroom"
export PATH="$REPO/.venv-instructor/bin:$PATH" CONVGRADE_VENV="$REPO/.venv-grader"
CELL_TIMEOUT=${CELL_TIMEOUT:-60}
nbgrader generate_assignment "$A" --force >/dev/null 2>&1
"$REPO/.venv-instructor/bin/python" - "$A" "$REPO" "$@" <<'PY'
import json, os, sys, shutil
A, REPO = sys.argv[1], sys.argv[2]
sys.path.insert(0, REPO)
from tests.classroom.test_classroom import _fill, _load
src, rel = f"source/{A}/{A}.ipynb", f"release/{A}/{A}.ipynb"
subs = {"reference": _fill(rel, src), "blank": _load(rel)}
for arg in sys.argv[3:]:
    name, path = arg.split("=", 1)
    subs[name] = _load(path)
for s, nb in subs.items():
    os.makedirs(f"submitted/{s}/{A}", exist_ok=True)
    json.dump(nb, open(f"submitted/{s}/{A}/{A}.ipynb", "w"))
PY
for s in $(ls submitted); do
  nbgrader autograde "$A" --student "$s" --create --force --Execute.timeout=$CELL_TIMEOUT > "log-$s.txt" 2>&1 || echo "$s: nbgrader failed (log-$s.txt)"
done
"$REPO/.venv-instructor/bin/python" - "$A" <<'PY'
import json, sys, glob
A = sys.argv[1]
for path in sorted(glob.glob(f"autograded/*/{A}/{A}.ipynb")):
    s = path.split("/")[1]
    nb = json.load(open(path))
    for c in nb["cells"]:
        m = c["metadata"].get("nbgrader", {})
        if m.get("grade") and c["cell_type"] == "code":
            last = (c.get("outputs") or [{}])[-1]
            print(f"{s:>12} {m['grade_id']:<18} {m.get('points')} "
                  f"{(last.get('evalue') or last.get('text') or '')[:160]!r}")
PY
echo "course copy: $T/classroom"
