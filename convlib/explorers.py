"""Interactive explorers (ipywidgets) and their kernel-free animations for the HTML book.

Each explorer is a thin widget over a drawing function of :mod:`convlib.plot` and the
matching data function of :mod:`convlib.figdata`: sliders for
``h_in``, ``f``, ``s``, a mode for ``h_out`` (``valid``, ``same``, ``full`` or a custom
value) and the pixel ``(i, j)``; every move redraws the figure into a PNG shown by an
``ipywidgets.Image``. The figure is a bare :class:`matplotlib.figure.Figure` reused for every
redraw, so nothing accumulates in pyplot.

Without a kernel (the HTML book), ``*_animation()`` shows the same figure at the explorer's
default settings stepping through one parameter: an ``IPython.display.HTML`` holding a
``to_jshtml`` player, made deterministic (stable ids) and self-contained (no Font Awesome
from a CDN: the buttons are plain characters; the frames are embedded PNGs).
"""

from __future__ import annotations

import io

import ipywidgets as widgets
from matplotlib.figure import Figure

from . import figdata, player, plot
from .conventions import convention_padding
from .padding import resolve_h_out

__all__ = [
    "padding_explorer",
    "windows_explorer",
    "dilation_explorer",
    "input_gradient_explorer",
    "padding_animation",
    "windows_animation",
    "dilation_animation",
    "input_gradient_animation",
]

DPI = 80  # widget images: readable at book width, fast to render
MODES = ("valid", "same", "full", "custom")


def render_png(fig, dpi=DPI) -> bytes:
    """The figure as PNG bytes (Agg), as the widget shows it (fast zlib level: a redraw
    spends its time drawing, not compressing)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, pil_kwargs={"compress_level": 1})
    return buf.getvalue()


def _slider(name, value, lo, hi, tip):
    return widgets.IntSlider(
        value=value, min=lo, max=hi, description=name, tooltip=tip,
        continuous_update=False, style={"description_width": "initial"},
        layout=widgets.Layout(width="250px"),
    )


def _layer_controls(h_in, f, s):
    """Sliders for h_in, f, s and the h_out mode, shared by the four explorers."""
    mode = widgets.Dropdown(options=MODES, value="same", description="h_out",
                            style={"description_width": "initial"},
                            layout=widgets.Layout(width="150px"))
    return {
        "h_in": _slider("h_in", h_in, 1, 12, "input height and width"),
        "f": _slider("f", f, 1, 6, "filter width"),
        "s": _slider("s", s, 1, 4, "stride"),
        "mode": mode,
        "h_out": _slider("custom h_out", 3, 1, 12, "h_out when the mode is 'custom'"),
    }


class Explorer(widgets.VBox):
    """A widget: controls on top, the figure below, a line for messages.

    Attributes
    ----------
    controls : dict of str -> widget
        Set ``controls[name].value`` to drive the explorer (as a test does).
    image : ipywidgets.Image
        The current figure as PNG.
    data : dict
        What the current figure shows (the dict of its :mod:`convlib.figdata` function).
    message : ipywidgets.HTML
        Why the last setting could not be drawn (an error of :mod:`convlib` teaching the
        constraint), empty otherwise.
    redraws : int
        How many figures were shown (each settled change of a control shows one).

    Figures already drawn are kept (up to 64 PNGs), so stepping back is instant.
    """

    def __init__(self, name, draw, data, controls, limits, hint):
        self.name = name
        self.controls = controls
        self.redraws = 0
        self._draw = draw
        self._data = data
        self._limits = limits
        self._busy = False
        self._fig = Figure()
        self._cache = {}
        self.data = {}
        self.image = widgets.Image(format="png")
        self.message = widgets.HTML()
        names = list(controls)
        box = {"flex_flow": "row wrap"}
        rows = [widgets.HBox([controls[k] for k in names[:3]], layout=box),
                widgets.HBox([controls[k] for k in names[3:]], layout=box)]
        super().__init__([widgets.HTML(f"<b>{name} explorer</b> &mdash; {hint}"), *rows,
                          self.message, self.image])
        for w in controls.values():
            w.observe(self._changed, names="value")
        self.redraw()

    def __repr__(self):  # a short, stable text/plain (the default lists every child)
        return f"<convlib {self.name} explorer>"

    def params(self) -> dict:
        """The arguments of the drawing function, read from the controls."""
        v = {k: w.value for k, w in self.controls.items()}
        v["h_out"] = v["h_out"] if v.pop("mode") == "custom" else self.controls["mode"].value
        return v

    def _changed(self, change):
        if not self._busy:
            self.redraw()

    def redraw(self):
        """Adapt the slider ranges to the layer, then draw the figure (thin: plot does it)."""
        self._busy = True
        try:
            self.controls["h_out"].disabled = self.controls["mode"].value != "custom"
            params = self.params()
            try:
                for key, hi in self._limits(params).items():
                    self.controls[key].max = max(hi, 0)
                params = self.params()
                key = tuple(sorted(params.items()))
                if key not in self._cache:
                    data = self._data(**params)  # once per redraw: the figure draws it
                    self._draw(**params, fig=self._fig, data=data)
                    if len(self._cache) >= 64:
                        self._cache.pop(next(iter(self._cache)))
                    self._cache[key] = (render_png(self._fig), data)
            except ValueError as err:
                self.message.value = f"<span style='color:#b00020'>{err}</span>"
                return
            self.message.value = ""
            self.image.value, self.data = self._cache[key]
            self.redraws += 1
        finally:
            self._busy = False


def _out_shape(p):
    """``(h_out, w_out)`` of the layer of ``p`` (eq. 7's geometry, not the figure's data;
    raises the teaching ValueError if the layer is invalid)."""
    return resolve_h_out(p["h_in"], p["h_in"], p["f"], p["s"], p["h_out"])


def _out_limits(p):
    """Largest output index (i, j) for the layer of ``p`` (raises ValueError if invalid)."""
    ho, wo = _out_shape(p)
    return {"i": ho - 1, "j": wo - 1}


def padding_explorer(h_in=5, f=3, s=2, h_out="same", convention="notes"):
    """Explore eqs. (7)-(8): the padding ``p``, its split and the padded input.

    Sliders for ``h_in``, ``f``, ``s``, the ``h_out`` mode (or a custom value) and a
    switch between the notes' convention, PyTorch's, TensorFlow's and all three side by side.
    Draws :func:`convlib.plot.draw_padding`.

    Returns
    -------
    Explorer
        An ``ipywidgets.VBox``.
    """
    c = _layer_controls(h_in, f, s)
    _set_mode(c, h_out)
    c["convention"] = widgets.ToggleButtons(
        options=[("notes", "notes"), ("PyTorch", "pytorch"), ("TensorFlow", "tensorflow"),
                 ("all three", "all")],
        value=convention, style={"button_width": "90px"},
    )
    hint = ("make p odd (h_in=6) to see the extra pixel go top/left; ask for h_out=1 to crop; "
            "compare the conventions.")

    def limits(p):
        convention_padding(p["h_in"], p["f"], p["s"], "notes", p["h_out"])  # validates
        return {}

    return Explorer("padding", plot.draw_padding, figdata.padding_data, c, limits, hint)


def windows_explorer(h_in=7, f=3, s=2, h_out="same", i=0, j=0):
    """Explore eq. (6): the window of the padded input that output pixel ``(i, j)`` reads.

    Draws :func:`convlib.plot.draw_windows`; ``i`` and ``j`` follow the output size.
    """
    c = _layer_controls(h_in, f, s)
    _set_mode(c, h_out)
    c["i"] = _slider("i", i, 0, 6, "output row")
    c["j"] = _slider("j", j, 0, 6, "output column")
    hint = "step i or j: the window moves by s; set s > f to skip rows, s < f to overlap."
    return Explorer("windows", plot.draw_windows, figdata.windows_data, c, _out_limits, hint)


def dilation_explorer(h_in=7, f=3, s=2, h_out="same", i=0, j=0):
    """Explore eqs. (14)-(15), (29): ``dz``, its dilation and how it slides to give ``dW``.

    Draws :func:`convlib.plot.draw_dilation`; ``(i, j)`` is the entry of ``dW`` (``< f``).
    """
    c = _layer_controls(h_in, f, s)
    _set_mode(c, h_out)
    c["i"] = _slider("i", i, 0, f - 1, "row of dW")
    c["j"] = _slider("j", j, 0, f - 1, "column of dW")
    hint = "move (i, j) over dW: the dilated dz slides by one pixel; change s to change the gaps."

    def limits(p):
        _out_shape(p)  # validates the layer
        return {"i": p["f"] - 1, "j": p["f"] - 1}

    return Explorer("dilation", plot.draw_dilation, figdata.dilation_data, c, limits, hint)


def input_gradient_explorer(h_in=7, f=3, s=2, h_out="same", i=3, j=3):
    """Explore eqs. (17)-(29): which outputs an input pixel influences, and ``dq(i, j)``.

    Draws :func:`convlib.plot.draw_input_gradient`; ``(i, j)`` is the input pixel.
    """
    c = _layer_controls(h_in, f, s)
    _set_mode(c, h_out)
    c["i"] = _slider("i", i, 0, h_in - 1, "input row")
    c["j"] = _slider("j", j, 0, h_in - 1, "input column")
    hint = ("move (i, j): the outputs it feeds light up, and rot180(W) at (i, j) of dz̄ "
            "meets exactly their dz; with s = 2 count how many it meets.")

    def limits(p):
        _out_shape(p)  # validates the layer
        return {"i": p["h_in"] - 1, "j": p["h_in"] - 1}

    return Explorer("input gradient", plot.draw_input_gradient, figdata.input_gradient_data,
                    c, limits, hint)


def _set_mode(c, h_out):
    if isinstance(h_out, str):
        c["mode"].value = h_out
    else:
        c["mode"].value = "custom"
        c["h_out"].value = h_out


def animation_html(draw, frames, name, *, fps=1.0, dpi=80, colors=96, alt=""):
    """A ``to_jshtml`` player of ``draw(**frame)`` for each frame, deterministic and offline.

    All frames share one pixel size (the largest), so the player does not jump.

    Parameters
    ----------
    draw : callable
        A drawing function of :mod:`convlib.plot` (accepting ``fig=`` and ``min_size=``).
    frames : list of dict
        Keyword arguments of ``draw``, one dict per frame.
    name : str
        Stable id of the player in the page.
    fps : float
        Frames per second.
    dpi : int
        Resolution of the embedded PNG frames.
    colors : int
        Size of the frames' palette.
    alt : str
        Text alternative of the picture (default: the name); :func:`convlib.player.finish`
        makes the player's HTML reproducible, offline and accessible.

    Returns
    -------
    str
        HTML.
    """
    from matplotlib.animation import FuncAnimation

    fig = Figure()
    sizes = []
    for kw in frames:
        draw(**kw, fig=fig)
        sizes.append(fig.get_size_inches())
    size = tuple(max(s[k] for s in sizes) for k in (0, 1))

    def update(k):
        draw(**frames[k], fig=fig, min_size=size)
        return []

    anim = FuncAnimation(fig, update, frames=len(frames), init_func=lambda: update(0),
                         interval=1000 / fps, blit=False, repeat=True)
    html = anim.to_jshtml(fps=fps, embed_frames=True, default_mode="loop")
    del anim
    return player.finish(html, name, colors=colors, alt=alt)


def _html(text):
    from IPython.display import HTML

    return HTML(text)


def padding_animation(h_in=5, f=3, s=2, h_outs=(1, 2, 3, 4), *, fps=0.7):
    """Kernel-free :func:`padding_explorer`: eqs. (7)-(8) as ``h_out`` grows.

    With the defaults, ``h_out = 1`` crops (``p = -2``), 2 is 'valid' (``p = 0``), 3 'same'
    (``p = 2``) and 4 'full' (``p = 4``).

    Returns
    -------
    IPython.display.HTML
    """
    frames = [{"h_in": h_in, "f": f, "s": s, "h_out": h} for h in h_outs]
    alt = (f"Padding figure of eqs. 7-8 for h_in = {h_in}, f = {f}, s = {s}, one frame per "
           f"output size h_out = {', '.join(map(str, h_outs))}: the padding grows from a "
           "crop to a border of zeros.")
    return _html(animation_html(plot.draw_padding, frames, "padding", fps=fps, dpi=90,
                                alt=alt))


def windows_animation(h_in=7, f=3, s=2, h_out="same", *, fps=1.5):
    """Kernel-free :func:`windows_explorer`: eq. (6), ``(i, j)`` stepping over every output.

    Returns
    -------
    IPython.display.HTML
    """
    ho, wo = _out_shape({"h_in": h_in, "f": f, "s": s, "h_out": h_out})
    frames = [{"h_in": h_in, "f": f, "s": s, "h_out": h_out, "i": i, "j": j}
              for i in range(ho) for j in range(wo)]
    alt = (f"Windows figure of eq. 6 for h_in = {h_in}, f = {f}, s = {s}: one frame per "
           f"output pixel of the {ho} by {wo} output, the window it reads moving {s} cells "
           "at a time over the padded input.")
    return _html(animation_html(plot.draw_windows, frames, "windows", fps=fps, dpi=80,
                                colors=48, alt=alt))


def dilation_animation(h_in=7, f=3, s=2, h_out="same", *, fps=1.0):
    """Kernel-free :func:`dilation_explorer`: eqs. (14)-(15), ``(i, j)`` over every entry of dW.

    Returns
    -------
    IPython.display.HTML
    """
    frames = [{"h_in": h_in, "f": f, "s": s, "h_out": h_out, "i": i, "j": j}
              for i in range(f) for j in range(f)]
    alt = (f"Dilation figure of eqs. 14-15 for h_in = {h_in}, f = {f}, s = {s}: one frame "
           f"per entry of the {f} by {f} dW, the dilated dz sliding one cell at a time over "
           "the padded input.")
    return _html(animation_html(plot.draw_dilation, frames, "dilation", fps=fps, dpi=80,
                                alt=alt))


def input_gradient_animation(h_in=7, f=3, s=2, h_out="same", i=3, *, fps=1.0):
    """Kernel-free :func:`input_gradient_explorer`: eqs. (17)-(29), pixel ``(i, j)`` moving
    along row ``i`` (with ``s = 2`` the number of influenced outputs alternates).

    Returns
    -------
    IPython.display.HTML
    """
    frames = [{"h_in": h_in, "f": f, "s": s, "h_out": h_out, "i": i, "j": j}
              for j in range(h_in)]
    alt = (f"Input-gradient figure of eqs. 17-29 for h_in = {h_in}, f = {f}, s = {s}: one "
           f"frame per input pixel of row {i}, showing the outputs it influences and the "
           "rotated filter on the dilated, padded dz meeting exactly their entries.")
    return _html(animation_html(plot.draw_input_gradient, frames, "inputgradient", fps=fps,
                                dpi=80, alt=alt))
