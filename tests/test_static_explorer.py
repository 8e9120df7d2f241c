"""The static explorers' data (convlib.static_explorer) is figdata's (padding, windows,
dilation, input gradient), and small."""

import json

import numpy as np
import pytest

from convlib import figdata, static_explorer


@pytest.mark.parametrize("layer", [(5, 3, 2, "same"), (5, 3, 2, 1), (8, 4, 3, "valid"),
                                   (6, 3, 2, "full"), (7, 2, 3, 3)])
def test_record_is_figdata(layer):
    h_in, f, s, h_out = layer
    rec = static_explorer.layer_record(h_in, f, s, h_out)
    d = figdata.padding_data(h_in, f, s, h_out)
    cat = np.array([[int(c) for c in row] for row in rec["cat"].split("/")])
    np.testing.assert_array_equal(cat, d["category"])
    assert rec["p"] == list(d["p"]) and rec["out"] == list(d["out_shape"])
    ho, wo = d["out_shape"]
    for i in range(ho):
        for j in range(wo):
            rows, cols = np.nonzero(figdata.windows_data(h_in, f, s, h_out, i, j)["window"])
            assert (rec["rows"][i], rec["cols"][j]) == (rows.min(), cols.min())
    for i in range(f):
        for j in range(f):
            placed = figdata.dilation_data(h_in, f, s, h_out, i, j)["placed"]
            rows, cols = np.nonzero(placed)
            assert (rec["drows"][i], rec["dcols"][j]) == (rows.min(), cols.min())
            dhat = np.array([[int(c) for c in row] for row in rec["dhat"].split("/")])
            window = placed[rows.min():rows.min() + dhat.shape[0],
                            cols.min():cols.min() + dhat.shape[1]]
            np.testing.assert_array_equal(dhat, window != 0)
    for i in range(h_in):
        for j in range(h_in):
            g = figdata.input_gradient_data(h_in, f, s, h_out, i, j)
            feeds = {(r, c): (a, b) for r, a in rec["grows"][i] for c, b in rec["gcols"][j]}
            assert feeds == {k: tuple(v) for k, v in g["weight_index"].items()}
            assert (rec["gpix"][i][0], rec["gpix"][j][1]) == tuple(g["pixel"])


@pytest.mark.slow  # the whole grid: about 3 s
def test_the_grid_is_small_and_explains_impossible_layers():
    text = static_explorer.layers_script()
    assert len(text) < 3 * 1024 * 1024
    grid = json.loads(text[text.index("(") + 1: text.rindex(")")])
    assert "valid" in grid["layers"]["2,4,1,valid"]  # f > h_in: the teaching error
    assert isinstance(grid["layers"]["5,3,2,same"], dict)
