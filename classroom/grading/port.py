"""Rewrite a source notebook's test cells to the sealed format (run once per assignment).

Every autograded test cell gets, first, one hidden line that hands the hidden cases to the
trusted grader (`convgrade.collect`), and loses its old hidden blocks; its public tests stay.

    python classroom/grading/port.py classroom/source/a1_forward/a1_forward.ipynb
"""

import json
import re
import sys

BLOCK = re.compile(r"\n?### BEGIN HIDDEN TESTS\n.*?### END HIDDEN TESTS\n?", re.S)


def port(path):
    nb = json.load(open(path))
    for cell in nb["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if cell["cell_type"] != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        public = BLOCK.sub("\n", text).strip("\n")
        hidden = ("### BEGIN HIDDEN TESTS\n"
                  f'__import__("convgrade").collect("{meta["grade_id"]}", globals())\n'
                  "### END HIDDEN TESTS\n")
        cell["source"] = (hidden + public).splitlines(keepends=True)
    with open(path, "w") as fh:
        json.dump(nb, fh, indent=1, ensure_ascii=False)
        fh.write("\n")


if __name__ == "__main__":
    for p in sys.argv[1:]:
        port(p)
