"""The kernel-free animation player carries its own size (issue 9, part 3).

In JupyterLab 4 an ``<img>`` that gets its size only when the player's script has loaded a
frame stayed 0 x 0 when the cell was rendered off screen (``content-visibility: auto``;
reproduced in chapter 3 after Run All, see ``test_jupyterlab.py``). The player's ``<img>``
must therefore hold the pixel size of its frames and the first frame from the start.
"""

import base64
import io
import re

from PIL import Image

from convlib import explorers, player


def draw_bar(k, fig, min_size=None):
    """A tiny stand-in for a convlib.plot renderer: frame k is wider for larger k."""
    fig.clear()
    fig.set_size_inches(min_size or (1.0 + 0.5 * k, 1.0))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.bar([0], [k + 1])
    ax.set_axis_off()
    fig.convlib_data = {}
    return fig


def png_size(b64):
    return Image.open(io.BytesIO(base64.b64decode(b64))).size


def test_player_img_has_its_frames_size_and_first_frame():
    html = explorers.animation_html(draw_bar, [{"k": k} for k in range(3)], "bars")
    frames = re.findall(r'frames\[\d+\] = "data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(frames) == 3
    sizes = {png_size(b) for b in frames}
    assert len(sizes) == 1, f"frames differ in size: {sizes}"
    (width, height), = sizes
    assert width == 2 * height  # the widest frame (2 x 1 in) sets every frame's size
    imgs = re.findall(r"<img\b[^>]*>", html)
    assert len(imgs) == 1
    img = imgs[0]
    assert re.search(r'\bid="_anim_imgbars[0-9a-f]{8}"', img)
    assert f'width="{width}"' in img and f'height="{height}"' in img
    assert f'src="data:image/png;base64,{frames[0]}"' in img
    assert "height: auto" in img and "max-width: 100%" in img  # scales down, keeps aspect
    assert 'alt="bars animation"' in img


def test_sized_player_refuses_an_unknown_template():
    import pytest

    with pytest.raises(RuntimeError, match="template changed"):
        player.sized_player('<div class="animation"><img src="x.png"></div>')
