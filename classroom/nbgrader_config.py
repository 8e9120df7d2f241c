"""nbgrader configuration of the classroom set (run nbgrader from this folder).

`make classroom` and `make autograde` (see the Makefile and the instructor's guide,
chapters/instructors.md) run nbgrader 0.9 from the instructor's environment, .venv-instructor.
"""

import os
import sys
from pathlib import Path

import nbgrader
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearHiddenTests,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    NbGraderPreprocessor,
    SaveAutoGrades,
)

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from grading.sealed import SanitizeOutputs, SealedExecute, TrustedChecks  # noqa: E402


class ShortTracebacks(NbGraderPreprocessor):  # (nbconvert's base class is disabled)
    """Feedback: an error in a test cell shows as its one-line message, no traceback.

    A traceback prints the source lines around the failing one, hidden tests included; the
    message alone names the property that failed (the hidden tests write it so).
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources


c = get_config()  # noqa: F821 (injected by nbgrader)

c.CourseDirectory.course_id = "conv-backprop"
# Every folder under source/ is one assignment (one notebook each).
# A busy timeout: autograde.py --jobs N grades N submissions at once, one process each.
c.CourseDirectory.db_url = "sqlite:///gradebook.db?timeout=60"

# Stubs of the released notebooks.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Untrusted code runs in a sealed kernel, one sandbox per submission (grading/sandbox.py), and
# the hidden tests are judged outside it (grading/checks/): nbgrader's own execution step is
# replaced by SealedExecute, and TrustedChecks turns each test cell's output into the verdict
# (the score nbgrader records), SanitizeOutputs strips whatever could run in a browser.
# A cell that runs longer than this is interrupted and scores zero (autograde.py also caps
# each submission's total time).
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True
c.SealedExecute.grading_venv = os.environ.get(
    "CONVGRADE_VENV", str(HERE.parent / ".venv-grader"))
c.Autograde.autograde_preprocessors = [
    SealedExecute, IgnorePattern, ClearMetadataPreprocessor, TrustedChecks, SanitizeOutputs,
    LimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata,
]

# Feedback shows the student's notebook with the hidden tests taken out again and the test
# cells' errors cut to their messages (which name the property, never the expected values).
c.GenerateFeedback.preprocessors = [
    SanitizeOutputs, GetGrades, ClearHiddenTests, ShortTracebacks, CSSHTMLHeaderPreprocessor,
]
# ... and typesets its math offline: templates/feedback/ goes before nbgrader's own `feedback`
# template and replaces nbconvert's MathJax 2 from a CDN by the MathJax 3 copy that
# autograde.py puts into feedback/<student>/mathjax/ (no page loads anything from the internet).
# Defence in depth (the notebooks are sanitised already, grading/sealed.py): nbconvert cleans
# the HTML of Markdown and outputs too; no widget state is kept from a grading kernel.
c.HTMLExporter.sanitize_html = True
c.Execute.store_widget_state = False
c.HTMLExporter.extra_template_basedirs = [
    str(Path(__file__).resolve().parent / "templates"),
    str(Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"),
]
