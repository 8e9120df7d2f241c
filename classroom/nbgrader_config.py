"""nbgrader configuration of the classroom set (run nbgrader from this folder).

`make classroom` and `make autograde` (see the Makefile and the instructor's guide,
chapters/instructors.md) run nbgrader 0.9 from the instructor's environment, .venv-instructor.
"""

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

c = get_config()  # noqa: F821 (injected by nbgrader)

c.CourseDirectory.course_id = "conv-backprop"
# Every assignment folder under source/ is one assignment; the notebooks are numbered.
c.CourseDirectory.db_url = "sqlite:///gradebook.db"

# Stubs of the released notebooks.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Untrusted code: a cell that runs longer than this is interrupted and scores zero
# (classroom/autograde.py also caps each submission's memory and total time).
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True

# Feedback shows the student's notebook with the hidden tests taken out again (their failure
# messages stay: they name the property that failed, never the expected values).
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
