"""nbgrader preprocessors of the sealed autograding (configured in classroom/nbgrader_config.py).

- `SealedExecute` runs the notebook in a kernel sealed by `sandbox.Sandbox` (one per
  submission, with a seed of its own for the hidden cases) and keeps at most
  `Limits.output` bytes of its output;
- `TrustedChecks` replaces the output of every autograded test cell by the verdict of the
  trusted checks (`checks.verdict`), so the score nbgrader records is theirs, whatever the
  kernel printed or raised;
- `SanitizeOutputs` keeps only output that cannot run in a browser (plain text, PNG, JPEG)
  and neutralises raw HTML in Markdown cells: the graded notebooks that the formgrader shows
  in the instructor's logged-in Jupyter, and the feedback pages, run no student script.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Bool, Integer, Unicode

from . import sandbox
from .checks import verdict
from .clean import sanitize_cell
from .kit.build import forget_kit, kit_for

MIME = "application/x.convgrade+json"
UNSEALED_ENV = "CONVGRADE_UNSEALED_I_TRUST_EVERY_SUBMISSION"


class SealedExecute(Execute):
    """Execute in a bubblewrap sandbox, with capped output."""

    grading_venv = Unicode("", help="the grading environment's folder").tag(config=True)
    memory_bytes = Integer(3 * 2**30, help="memory of the whole submission").tag(config=True)
    output_bytes = Integer(4 * 2**20, help="output bytes kept per notebook").tag(config=True)
    unsealed = Bool(False, help="run without the sandbox (never for student work)").tag(
        config=True)

    def preprocess(self, nb, resources=None, km=None):
        info = resources.get("nbgrader", {})
        assignment = info.get("assignment", "")
        seed = secrets.token_hex(8)
        resources["convgrade_seed"] = int(seed, 16)
        self._output_used, self._truncated = 0, set()
        kit = kit_for(assignment)
        limits = sandbox.Limits(memory=self.memory_bytes, output=self.output_bytes)
        self._box = sandbox.Sandbox(venv=Path(self.grading_venv), kit=kit, limits=limits,
                                    env={"CONVGRADE_SEED": seed})
        self._unsealed_env = {"CONVGRADE_SEED": seed, "PYTHONPATH": str(kit)}
        from . import oracle  # the kernel's proxies are answered here, from a secret of ours
        server = oracle.start(self._box.run, resources["convgrade_seed"])
        self._oracle = server.oracle
        self._box.env["CONVGRADE_ORACLE"] = self._unsealed_env["CONVGRADE_ORACLE"] = str(
            server.folder)
        try:
            return super().preprocess(nb, resources, km=km)
        finally:
            server.stop()
            self._box.close()
            shutil.rmtree(self._box.run.parent / f"{self._box.name}-spec", ignore_errors=True)
            forget_kit(assignment)

    def preprocess_cell(self, cell, resources, index):
        # the oracle answers a part's stand-ins only while that part's test cell runs
        self._oracle.active = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        try:
            return super().preprocess_cell(cell, resources, index)
        finally:
            self._oracle.active = ""

    def create_kernel_manager(self):
        box = self._box
        specs = box.run.parent / f"{box.name}-spec"
        (specs / "sealed").mkdir(parents=True)
        if self.unsealed or os.environ.get(UNSEALED_ENV) == "1":
            python = str(Path(self.grading_venv).absolute() / "bin" / "python")
            argv = [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
            env = self._unsealed_env
        else:
            argv, env = box.kernel_argv(), {}
        (specs / "sealed" / "kernel.json").write_text(json.dumps(
            {"argv": argv, "display_name": "sealed grading kernel", "language": "python",
             "env": env,
             # a signal would reach bwrap, not the kernel inside its PID namespace: interrupt
             # (a cell past its timeout) by a message on the control channel instead
             "interrupt_mode": "message"}))
        self._specs = specs
        self.km = AsyncKernelManager(
            kernel_name="sealed", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(specs)]),
            transport="ipc", ip=str(box.run / "kernel"),
            connection_file=str(box.run / "connection.json"), config=self.config)
        self.kernel_name = "sealed"
        return self.km

    async def async_start_new_kernel(self, **kwargs):
        kwargs.pop("cwd", None)  # the sandbox's own /submission
        if self.unsealed or os.environ.get(UNSEALED_ENV) == "1":
            work = self._box.run / "submission"
            work.mkdir()
            kwargs["cwd"] = str(work)
        return await super().async_start_new_kernel(**kwargs)

    def process_message(self, msg, cell, cell_index):
        kind = msg.get("msg_type")
        if kind is not None and kind.startswith("comm_"):
            return None  # no widgets in grading: their state would pile up in this process
        if kind in ("stream", "display_data", "execute_result", "error", "update_display_data"):
            size = len(json.dumps(msg.get("content", {}), default=str))
            self._output_used += size
            if self._output_used > self.output_bytes:
                if cell_index not in self._truncated:
                    self._truncated.add(cell_index)
                    cell.outputs.append(NotebookNode(
                        output_type="stream", name="stderr",
                        text=f"[output cut: the notebook printed more than "
                             f"{self.output_bytes // 2**20} MiB]\n"))
                if kind != "error":
                    return None
                msg = dict(msg, content={"ename": msg["content"].get("ename", "Error")[:100],
                                         "evalue": str(msg["content"].get("evalue", ""))[:300],
                                         "traceback": []})
        return super().process_message(msg, cell, cell_index)


def _is_test_cell(cell):
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and meta.get("grade") and not meta.get("solution")


def _records(cell, grade_id):
    """The results the kernel showed for this cell (the last record set for its grade_id)."""
    found = None
    for out in cell.get("outputs", []):
        data = out.get("data", {}) if out.get("output_type") in (
            "display_data", "execute_result") else {}
        blob = data.get(MIME)
        if isinstance(blob, str):
            try:
                blob = json.loads(blob)
            except ValueError:
                blob = None
        if isinstance(blob, dict) and blob.get("grade_id") == grade_id and isinstance(
                blob.get("records"), list):
            found = blob["records"]
    return found


class TrustedChecks(NbGraderPreprocessor):
    """Each autograded test cell's outputs become the trusted verdict (pass, or one error)."""

    def preprocess(self, nb, resources):
        self._seed = resources.get("convgrade_seed", 0)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        if not _is_test_cell(cell):
            return cell, resources
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        records = _records(cell, grade_id)
        public = [o for o in cell.get("outputs", []) if o.get("output_type") == "stream"]
        if records is None:
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            ename = errors[-1].get("ename") if errors else ""
            if ename in ("CellTimeoutError", "KeyboardInterrupt"):
                message = ("the cell ran past its time limit and was stopped (an endless "
                           "loop, or far too slow?)")
            elif ename == "DeadKernelError":
                message = "the kernel died while this cell ran (out of memory?)"
            else:
                why = (f"{ename}: {errors[-1].get('evalue')}"[:300] if errors
                       else "no results")
                message = f"the hidden tests did not run ({why})"
        else:
            try:
                message = verdict(grade_id, [r for r in records if isinstance(r, dict)],
                                  self._seed)
            except Exception as exc:  # noqa: BLE001 (a grader bug must not pass a part)
                message = f"the grader could not check this part ({type(exc).__name__})"
        label = grade_id.removesuffix("-tests")
        cell.outputs = [o for o in public if o.get("name") == "stdout"][:20]
        if message is None:
            cell.outputs.append(NotebookNode(output_type="stream", name="stdout",
                                             text=f"{label}: hidden tests passed\n"))
        else:
            cell.outputs.append(NotebookNode(
                output_type="error", ename="HiddenTestFailed", evalue=message,
                traceback=[f"HiddenTestFailed: {message}"]))
        return cell, resources


class SanitizeOutputs(NbGraderPreprocessor):
    """No output or Markdown of a submission can run script where it is shown."""

    def preprocess(self, nb, resources):
        nb.metadata = {k: v for k, v in nb.metadata.items()
                       if k in ("kernelspec", "language_info", "nbgrader")}
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        return sanitize_cell(cell), resources
