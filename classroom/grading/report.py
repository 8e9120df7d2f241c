"""What the class got wrong, at a glance: one offline HTML page per run of `make autograde`.

For each assignment and each autograded part: the share of graded students with full points,
and the properties the trusted checks named most often when the part failed ("conv_forward_loops
splits the padding the wrong way round: 12 students"), read from the graded notebooks, where
`sealed.TrustedChecks` wrote them. A bar chart (matplotlib, embedded as PNG, with a text
alternative) shows the shares; the page loads nothing. It goes to feedback/class-report.html,
beside the students' folders (it names no student: send those folders, not this page).
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

_CASE = re.compile(r"\s*\((?:case|for)\b.*$|\s+for (?:q|q_bar|x|the|h_in|p)\b.*$"
                   r"|\s*\{?(?:case|for) '.*$")
_NUMBER = re.compile(r"(?<!eq\. \()(?<!eqs\. \()(?<![\w.])-?\d+(?:\.\d+)?(?:e-?\d+)?(?!\w)")


def property_of(message: str) -> str:
    """The failed property of a verdict, without the case it failed on."""
    text = message.split(":", 1)[0] if message.startswith("HiddenTestFailed") else message
    text = _CASE.sub("", text).strip()
    return _NUMBER.sub("#", text)


def _results(course: Path, assignment: str):
    """{part: {student: (passed, message)}} from the graded notebooks."""
    out = defaultdict(dict)
    for path in sorted((course / "autograded").glob(f"*/{assignment}/{assignment}.ipynb")):
        student = path.parts[-3]
        try:
            nb = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        for cell in nb.get("cells", []):
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell.get("cell_type") != "code" or not meta.get("grade") or meta.get("solution"):
                continue
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            message = str(errors[-1].get("evalue", "")) if errors else ""
            out[meta["grade_id"]][student] = (not errors, message)
    return out


def _chart(rows) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 0.35 * len(rows) + 1.2), dpi=100)
    labels = [r[0] for r in rows][::-1]
    shares = [100 * r[1] for r in rows][::-1]
    bars = ax.barh(labels, shares, color="#1f5fa8", hatch="//", edgecolor="white")
    ax.bar_label(bars, labels=[f"{s:.0f}%" for s in shares], padding=3)
    ax.set_xlim(0, 112)
    ax.set_xlabel("students with full points on the part (%)")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def write(course: Path, assignments) -> Path | None:
    """Write feedback/class-report.html for the graded assignments; its path (None if none)."""
    sections, rows = [], []
    for assignment in assignments:
        results = _results(course, assignment)
        if not results:
            continue
        items = []
        for part, by_student in results.items():
            n = len(by_student)
            passed = sum(ok for ok, _ in by_student.values())
            rows.append((part.removesuffix("-tests"),
                         passed / n if n else 0.0))
            counts = Counter(property_of(m) for ok, m in by_student.values() if not ok)
            common = "".join(f"<li>{html.escape(p or '(no message)')}: {k} student"
                             f"{'s' if k > 1 else ''}</li>" for p, k in counts.most_common(5))
            items.append(f"<tr><th scope='row'>{html.escape(part)}</th><td>{passed} of {n}"
                         f"</td><td><ul>{common or '<li>none</li>'}</ul></td></tr>")
        sections.append(f"<h2>{html.escape(assignment)}</h2><table><thead><tr><th scope='col'>"
                        "part</th><th scope='col'>full points</th><th scope='col'>most "
                        "frequent failed properties</th></tr></thead><tbody>"
                        + "".join(items) + "</tbody></table>")
    if not sections:
        return None
    alt = "; ".join(f"{label}: {100 * share:.0f}% with full points" for label, share in rows)
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Class report"
        "</title><style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto;color:#111}"
        "table{border-collapse:collapse;width:100%}th,td{border:1px solid #999;padding:.3rem;"
        "text-align:left;vertical-align:top}ul{margin:0;padding-left:1.2rem}</style></head>"
        "<body><main><h1>What the class got wrong</h1><p>Per autograded part: how many "
        "graded students have full points, and the properties the hidden tests named most "
        "often when it failed (the case left out). Teach again where the bars are short."
        f"</p><img src='data:image/png;base64,{_chart(rows)}' alt='{html.escape(alt)}'>"
        + "".join(sections) + "</main></body></html>")
    target = course / "feedback" / "class-report.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page)
    return target
