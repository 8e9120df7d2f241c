# Two entry points (see README.md): `make book` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH ?= 2.13.0
NBVAL := --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=300

.PHONY: setup setup-test book course-url lab-env student-book test check lint unit notebooks browser \
	browser-test execute lab clean bench instructor sandbox classroom autograde

## Python venv + the browser assets the book serves itself (MathJax, widget manager, Font
## Awesome: pinned in package-lock.json, installed by npm into node_modules/, copied into
## _build/html/_static/offline/ by offline/offline_assets.py at build time; never committed).
## `make book` needs the `book` extra only; the tests add the `test` extra, with PyTorch's CPU
## build (torch==2.13.0 takes the CPU wheel here; a looser range would pull a CUDA build of
## several GB).
setup: $(VENV)/.installed node_modules/.installed
setup-test: setup $(VENV)/.installed-test

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[book]"
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test]" "torch==$(TORCH)"
	touch $@

node_modules/.installed: package.json package-lock.json
	bash offline/require-tool.sh npm
	npm ci --no-audit --no-fund --ignore-scripts
	touch $@

## The HTML book from the stored notebook outputs, warnings as errors. First the course's
## address (repository.url in _config.yml): a warning while it is the placeholder, an error
## if a notebook or the README names another one (tools/course_url.py --apply fixes that).
book: setup
	$(BIN)/python tools/course_url.py
	$(BIN)/jupyter-book build -W -n --keep-going .

## After changing repository.url in _config.yml: rewrite the places that name it.
course-url: setup
	$(BIN)/python tools/course_url.py --apply

lint: setup-test
	$(BIN)/ruff check .

unit: setup-test
	$(BIN)/pytest tests --ignore=tests/browser

## The quick check (about a minute on 2 cores): lint, the unit tests without the slow ones
## (marked `slow`: the animations, the classroom, the benchmark's smoke run...), without the
## notebooks and the browser, and the examples in convlib's docstrings.
check: setup-test lint
	$(BIN)/pytest -q -m "not slow" --ignore=tests/browser tests
	$(BIN)/pytest -q --doctest-modules convlib

notebooks: setup-test
	$(BIN)/pytest $(NBVAL) chapters

## Debian's Chromium for the browser test (apt-get as root, else says what to install).
browser:
	bash offline/require-tool.sh chromium

## The student edition of the book alone (no solutions; about 20 s), for the browser test.
## Its links name a stand-in students' repository (make classroom needs the real one).
TEST_STUDENT_REPOSITORY := https://github.com/conv-backprop/course-students
student-book: setup
	$(BIN)/python tools/student_edition.py _build/student \
	  --repository "$(or $(STUDENT_REPOSITORY),$(TEST_STUDENT_REPOSITORY))"

## The browser test alone: every page of the built book in headless Chromium
## (screenshots in _build/screenshots/), and axe-core's WCAG 2.1 AA audit of every page of
## the book and of the student edition.
browser-test: book student-book browser setup-test
	BOOK_STUDENT_REQUIRED=1 $(BIN)/pytest tests/browser

## Everything: lint, the book build, unit tests, notebooks under strict nbval, and the
## browser test over every page of the built book.
test: setup-test lint book student-book browser instructor sandbox lab-env
	CLASSROOM_TEST_REQUIRED=1 BOOK_STUDENT_REQUIRED=1 LAB_VENV=$(LVENV) \
	  $(BIN)/pytest $(NBVAL) tests chapters
	$(BIN)/pytest -q --doctest-modules convlib

## Re-execute every chapter in place (authors run this after editing a notebook). Widget
## state is not stored: a saved widget in the static book would show sliders that do nothing
## (the book shows each explorer as a kernel-free animation instead).
NB ?= chapters/*.ipynb
execute: setup-test
	$(BIN)/python tools/execute_notebooks.py $(NB)

## The students' environment, in its own .venv-lab: the README's plain commands (a venv,
## `pip install -e ".[lab]"`) plus PyTorch's CPU build for chapter 8 (torch==2.13.0 takes the
## CPU wheel here; elsewhere the README names PyTorch's CPU index). The JupyterLab student
## test (tests/lab/test_jupyterlab.py) runs in this environment under `make test`.
LVENV := .venv-lab
LBIN := $(LVENV)/bin

$(LVENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(LVENV)
	$(LBIN)/python -m pip install --quiet --upgrade pip
	$(LBIN)/python -m pip install --quiet -e ".[lab]" "torch==$(TORCH)"
	touch $@

lab-env: $(LVENV)/.installed

## Open the notebooks in JupyterLab 4 with jupyterlab-myst, so roles, directives and folded
## solutions render.
lab: lab-env
	$(LBIN)/jupyter lab chapters

bench: setup-test
	$(BIN)/python benchmarks/bench_conv.py
	$(BIN)/python benchmarks/bench_explorers.py
	$(BIN)/python benchmarks/bench_train.py

clean:
	rm -rf _build

## Classroom (instructors; see chapters/instructors.md). nbgrader 0.9 brings JupyterLab with it,
## so it lives in its own environment, out of the students' .venv (make lab, Binder). Its
## bin/ goes first on PATH: nbgrader runs `alembic` as a program.
IVENV := .venv-instructor
GVENV := .venv-grader
IBIN := $(IVENV)/bin
IPATH := PATH="$(abspath $(IBIN)):$$PATH"
## Where the assignments' sources live (solutions and hidden tests): classroom/ here, or a
## private folder or repository of yours (see the guide, "Keeping the answers private").
CLASSROOM ?= classroom
## The students' repository, which the student edition's links name (never this one while it
## holds $(CLASSROOM)/source/): make classroom STUDENT_REPOSITORY=https://github.com/you/course
STUDENT_REPOSITORY ?=
## One assignment at a time: make classroom ASSIGNMENTS=a1_forward
ASSIGNMENTS ?= $(notdir $(wildcard $(CLASSROOM)/source/*))

$(IVENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(IVENV)
	$(IBIN)/python -m pip install --quiet --upgrade pip
	$(IBIN)/python -m pip install --quiet -e ".[test]" "torch==$(TORCH)" "nbgrader>=0.9,<0.10"
	touch $@

instructor: $(IVENV)/.installed $(GVENV)/.installed

## The grading environment the sealed kernel runs (classroom/grading/sandbox.py): numpy,
## ipykernel and what the assignments import, nothing else (no nbgrader, no PyTorch, no
## convlib: the sandbox gives each assignment a convlib without the functions it asks for).
## "numpy only" holds in it: no scipy, scikit-learn or torch (a5's digits come as a file in its
## kit, classroom/grading/kit/build.py); the last line fails the build if one of them got in.
## Made anew (rm -rf) whenever this Makefile changes: pip never removes what an older rule put in.
$(GVENV)/.installed: pyproject.toml Makefile
	rm -rf $(GVENV)
	$(PYTHON) -m venv $(GVENV)
	$(GVENV)/bin/python -m pip install --quiet --upgrade pip
	$(GVENV)/bin/python -m pip install --quiet "numpy>=1.24" "ipykernel>=6,<7" "matplotlib>=3.7" \
	  "threadpoolctl>=3.1"
	$(GVENV)/bin/python -c "import importlib.util as u, sys; \
	  bad = [m for m in ('scipy', 'sklearn', 'torch') if u.find_spec(m)]; \
	  sys.exit(f'$(GVENV) must be numpy only, found {bad}' if bad else 0)"
	touch $@

## bubblewrap, the sandbox of the sealed autograding (apt-get as root, else says what to install).
sandbox:
	bash offline/require-tool.sh bwrap

## The student release of every assignment (classroom/release/) and the student edition of the
## book (_build/student/html: no exercise solutions, in the pages or the notebooks).
classroom: instructor setup
	$(BIN)/python tools/student_edition.py _build/student --no-build --classroom "$(CLASSROOM)" \
	  --repository "$(STUDENT_REPOSITORY)"
	for a in $(ASSIGNMENTS); do \
	  (cd $(CLASSROOM) && $(IPATH) nbgrader generate_assignment $$a --force) || exit 1; \
	done
	$(BIN)/python tools/student_edition.py _build/student --classroom "$(CLASSROOM)" \
	  --repository "$(STUDENT_REPOSITORY)"

## Autograde every submission under classroom/submitted/<student>/<assignment>/, each in its
## own process with a memory cap and time limits, then write the feedback (classroom/feedback/;
## its pages load the MathJax of node_modules/, copied into each student's folder).
autograde: instructor sandbox node_modules/.installed
	$(IPATH) CONVGRADE_VENV="$(abspath $(GVENV))" $(IBIN)/python $(CLASSROOM)/autograde.py \
	  --course $(CLASSROOM) $(AUTOGRADE_ARGS)
