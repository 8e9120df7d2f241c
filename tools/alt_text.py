"""Text alternatives of the chapters' figures (WCAG 1.1.1), kept here and written into the
notebooks' cell metadata (``mystnb: image: alt``, which myst-nb puts on the ``<img>``).

A figure's caption, where it has one, is shown under it and read too; the alternative says
in a sentence or two what the picture shows, so a reader who cannot see it knows what the
text around it refers to. Numbers that a re-execution may change (timings, accuracies) are
left to the text and tables around the figure.

Usage::

    python tools/alt_text.py           # write the metadata (idempotent), list what changed
    python tools/alt_text.py --check   # exit 1 if a figure cell has no alternative

Cells are found by their id, so the tool can be re-run after the notebooks are re-executed
or merged. tests/test_alt_text.py checks that every figure has one.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

ALT = {
    "00_matrix_view.ipynb": {
        "00-010": "Two coloured matrices side by side: M, 6 rows by 8 columns, whose rows "
                  "hold the three filter weights shifted one column per row, and its "
                  "transpose, whose columns hold them, so each row of the transpose reads "
                  "the filter flipped.",
    },
    "01_forward.ipynb": {
        "01-003": "Computational graph of two convolutional layers: the input q, the first "
                  "layer's z and activation, the second layer and the loss, left to right, "
                  "with the filters and biases feeding each layer and the differentials "
                  "flowing back from the loss along the same arrows.",
        "01-ch2": "A grid of heat maps for eq. 5: each padded input channel in a row, "
                  "correlated with the filter of each output channel, and the two output "
                  "channels as the sums over the input channels.",
        "01-010": "Left: the padded input grid with four 3 by 3 windows outlined, their "
                  "top-left corners two cells apart. Right: the 4 by 5 output, each pixel "
                  "coloured like the window it reads.",
        "01-012": "The padded input with the window of output pixel (1, 2) highlighted, "
                  "rows 2 to 4 and columns 4 to 6, each cell labelled with its filter entry; "
                  "the dashed windows of its neighbours overlap it by one row or column.",
        "01-win2": "Windows explorer figure with stride 4 and filter 3 on a 7 by 7 image: "
                   "the windows start four rows apart, so row 3 and column 3, drawn dotted, "
                   "are read by no window.",
        "01-027": "Padding figure for a 'valid' output: the input's last row and last "
                  "column are crossed out as cropped, because eq. 7 gives a padding of -1.",
        "01-031": "The 6 by 10 input placed in its padded grid, with the extra zero row on "
                  "top and the extra zero column on the left; a green bracket marks the rows "
                  "that hold the input, a red one the notes' printed range, one row too long.",
    },
    "02_output_error.ipynb": {
        "02-005": "Two Jacobian matrices as heat maps: the activation's, non-zero only on "
                  "its diagonal, and the layer's, a banded pattern of filter weights.",
        "02-008": "Four small plots, identity, ReLU, tanh and sigmoid: each activation as a "
                  "solid line and its derivative as a dashed line, crossing only at the "
                  "points the caption lists.",
    },
    "03_filter_gradients.ipynb": {
        "03-018": "Two copies of the padded input with the dilated dz laid over it, its "
                  "entries two cells apart: once at offset (0, 0) for dW(0, 0) and once at "
                  "(2, 1) for dW(2, 1), and the 3 by 3 dW with those two entries marked.",
        "03-dil2": "Dilation explorer figure with stride 3: dz's entries three cells apart "
                   "in the dilated dz, with two zeros between neighbours, over the padded "
                   "input at the position of weight W(0, 0).",
    },
    "04_input_gradient_stride1.ipynb": {
        "04-007": "Two rows of panels: an input pixel in the padded input with the windows "
                  "that read it, and the outputs it reaches, each labelled with the filter "
                  "weight that multiplies it; an inner pixel reaches nine outputs, a pixel "
                  "near the border fewer.",
        "04-024": "The filter W and its 180-degree rotation, the padded dz with the rotated "
                  "filter placed at (2, 3), and the input gradient grid with entry dq(2, 3) "
                  "highlighted as the sum of those products.",
        "04-e2-12": "Two diagrams side by side: forward, every input channel feeds every "
                    "output channel through its filter and the sums give z; backward, every "
                    "output differential feeds every input gradient through the rotated "
                    "filters and the sums give dq.",
    },
    "05_input_gradient_strided.ipynb": {
        "6a8107de": "Left: the 4 by 3 output differential with entries d1 to d12. Right: the "
                    "same entries dilated to 7 by 5, with a row and a column of zeros between "
                    "neighbours.",
        "c8ce7ad5": "The dilated differential padded to 9 by 8: zeros of the padding around "
                    "it, one row above and below, one column left and two right, and the "
                    "zeros of the dilation between the entries.",
        "8c7fe06b": "Three windows of the rotated filter drawn on the dilated, padded dz, and "
                    "the 7 by 6 input gradient with the three pixels they give; under them, "
                    "each of those dq values written as the sum of the dz entries it meets.",
        "54fa4cb1": "Input-gradient explorer figure for pixel (1, 3): the windows that read "
                    "it in the padded input, the four outputs it influences, and the rotated "
                    "filter on the dilated, padded dz meeting exactly those four entries.",
        "6b6a14b8": "Grid of the padded 11 by 14 input, each cell labelled with how many "
                    "windows read it: the last row and column of the input and part of the "
                    "padding are marked as never read.",
    },
    "06_vectorization.ipynb": {
        "06-e2-09": "The padded input with window (1, 2) outlined, its nine cells numbered 0 "
                    "to 8 row by row, and the column vector of those nine entries in the same "
                    "order.",
        "06-e2-34": "Log-log plot of the traced memory peak of one call against the chunk's "
                    "window-matrix size, forward and backward: the peak follows the chunk "
                    "size and stays far below the whole window matrix, a star at the default.",
        "06-e2-55": "Three bar charts, one bar per benchmark case and precision: time "
                    "against PyTorch, share of the bare matrix-product rate, and speed-up "
                    "over the literal loops on a log scale.",
        "06-e2-57": "Plot of the traced memory peak, as a multiple of the input's size, "
                    "against the size of the window matrices alive at once, for the workspace "
                    "and chunk-size series, with the goal drawn as a dashed line.",
    },
    "07_training.ipynb": {
        "07-021": "Twenty training images of handwritten digits, 8 by 8 grey pixels, two of "
                  "each digit from 0 to 9, labelled with their digit.",
        "07-037": "Two plots over the epochs: the mean training loss falling on a log scale, "
                  "and the accuracy on the training and the test set rising and levelling "
                  "off.",
        "07-039": "The eight 3 by 3 filters of the first layer after training as small "
                  "colour maps, red for positive weights and blue for negative ones.",
        "07-041": "The confusion matrix of the test set, with nearly all counts on the "
                  "diagonal, and the misclassified test digits, each titled with its true and "
                  "predicted digit.",
        "07-047": "Training loss and test accuracy over the epochs for the correct gradient "
                  "and for each of the notes' printed mistakes, one line style per variant: "
                  "the correct one reaches the lowest loss.",
    },
    "conventions.ipynb": {
        "052d7fff": "The same 6 by 6 input padded three ways side by side, by the notes, "
                    "PyTorch and TensorFlow, for a 'same' output with stride 2: the zero rows "
                    "and columns sit on different sides.",
        "7a6e9334": "The 8 by 8 input with stride 3 and no padding under the three "
                    "conventions: two windows fit, and rows and columns 6 and 7 are marked "
                    "as never read.",
    },
}


def figure_cells(nb: dict):
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and any(
            "image/png" in o.get("data", {}) for o in cell.get("outputs", [])
        ):
            yield cell


def apply(root: Path = ROOT) -> list[str]:
    changed = []
    for name, alts in ALT.items():
        path = root / "chapters" / name
        nb = json.loads(path.read_text(encoding="utf8"))
        dirty = False
        for cell in nb["cells"]:
            alt = alts.get(cell.get("id"))
            if alt is None:
                continue
            image = cell["metadata"].setdefault("mystnb", {}).setdefault("image", {})
            if image.get("alt") != alt:
                image["alt"] = alt
                dirty = True
                changed.append(f"{name}: cell {cell['id']}")
        if dirty:
            text = json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True)  # nbformat's
            path.write_text(text + "\n", encoding="utf8")
    return changed


def missing(root: Path = ROOT) -> list[str]:
    out = []
    for path in sorted((root / "chapters").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf8"))
        for cell in figure_cells(nb):
            alt = cell["metadata"].get("mystnb", {}).get("image", {}).get("alt", "")
            if len(alt.split()) < 8:
                out.append(f"{path.name}: cell {cell.get('id')} has no text alternative")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    if not args.check:
        for line in apply():
            print(f"alt_text: {line}")
    problems = missing()
    for line in problems:
        print(f"alt_text: {line}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
