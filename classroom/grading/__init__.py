"""Sealed autograding of the classroom set (trusted side; see chapters/instructors.md).

- `sandbox`: the bubblewrap sandbox and the per-submission limits the grading kernel runs in;
- `sealed`: nbgrader preprocessors: the sealed execution, the checks outside the kernel and
  the sanitising of everything a submission shows (the rules in `clean`).
- `checks`: the trusted references and verdicts of each assignment's hidden tests;
- `kit/`: what the sealed kernel may import (the case inputs and the result recorder,
  `convgrade`, and a convlib without the functions the assignments ask for).
"""
