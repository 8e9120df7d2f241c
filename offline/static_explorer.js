/* The padding, windows, dilation and input-gradient explorers of the HTML book, without a
 * kernel.
 *
 * A <details class="static-explorer" data-explorer="padding|windows|dilation|gradient"
 * data-src="...layers.js">
 * (offline_assets.py puts one next to the kernel-free animation) becomes, when the reader
 * opens it, a set of labelled controls (h_in, f, s, h_out; i, j: the output pixel of the
 * windows explorer, the entry of dW of the dilation explorer, the input pixel of the
 * input-gradient explorer) and an SVG picture. The picture's numbers all come from layers.js,
 * written at build time by convlib.static_explorer from convlib.figdata (the notebook
 * widget's data): this script only draws them (cell categories, unread cells, padding,
 * output size, where each window starts) and computes no geometry. layers.js loads on the
 * first open only, as a script (so it works from file:// as well as from a server).
 */
(function () {
  "use strict";
  const NS = "http://www.w3.org/2000/svg";
  const CELL = 26;
  const S = (window.convlibStaticExplorer = window.convlibStaticExplorer || {
    grid: null, waiting: [], requested: false,
    load(grid) { this.grid = grid; this.waiting.splice(0).forEach((f) => f()); },
  });

  function need(src, then) {
    if (S.grid) return then();
    S.waiting.push(then);
    if (!S.requested) {
      S.requested = true;
      const tag = document.createElement("script");
      tag.src = src;
      document.head.appendChild(tag);
    }
  }

  function el(name, attrs, parent) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (parent) parent.appendChild(node);
    return node;
  }

  function select(form, name, label, options, value) {
    const id = `${form.id}-${name}`;
    const wrap = document.createElement("span");
    wrap.className = "static-explorer-control";
    const lab = document.createElement("label");
    lab.htmlFor = id;
    lab.textContent = label;
    const sel = document.createElement("select");
    sel.id = id;
    sel.name = name;
    fill(sel, options, value);
    wrap.append(lab, sel);
    form.appendChild(wrap);
    return sel;
  }

  function fill(sel, options, value) {
    sel.replaceChildren(...options.map(([v, text]) => {
      const o = document.createElement("option");
      o.value = String(v);
      o.textContent = text;
      return o;
    }));
    const values = options.map(([v]) => String(v));
    sel.value = values.includes(String(value)) ? String(value) : values[0];
  }

  function patterns(svg, colors, uid) {
    const defs = el("defs", {}, svg);
    const hatch = (id, color, d) => {
      const p = el("pattern", {id: `${uid}-${id}`, patternUnits: "userSpaceOnUse",
                               width: 6, height: 6}, defs);
      el("path", {d: d, stroke: color, "stroke-width": 1.2}, p);
    };
    hatch("zero", "#8a8a8a", "M0,6 L6,0 M-1,1 L1,-1 M5,7 L7,5");
    hatch("crop", "#d62728", "M0,0 L6,6 M6,0 L0,6");
    const dots = el("pattern", {id: `${uid}-unread`, patternUnits: "userSpaceOnUse",
                                width: 6, height: 6}, defs);
    el("circle", {cx: 3, cy: 3, r: 1.1, fill: colors.unread}, dots);
  }

  function rect(parent, r, c, h, w, attrs) {
    return el("rect", Object.assign({x: c * CELL, y: r * CELL, width: w * CELL,
                                     height: h * CELL}, attrs), parent);
  }

  function draw(box, kind, params, rec, colors, uid) {
    const cat = rec.cat.split("/").map((row) => Array.from(row, Number));
    const read = rec.read.split("/").map((row) => Array.from(row, Number));
    const [r0, c0] = rec.origin;
    const [ho, wo] = rec.out;
    const rowsC = cat.length, colsC = cat[0].length;
    const outX = colsC + 2;
    const dzb = rec.dzb.split("/").map((row) => Array.from(row, Number));
    const barX = outX + wo + 2;  // dz_bar, right of the outputs (input-gradient explorer)
    const side = {windows: wo, dilation: params.f, padding: -2,
                  gradient: wo + 2 + dzb[0].length}[kind];
    const width = (outX + side) * CELL + 2;
    const height = Math.max(rowsC, kind === "gradient" ? dzb.length : 0) * CELL + 2;
    const svg = el("svg", {viewBox: `-1 -1 ${width} ${height}`,
                           width: width, height: height, role: "img"});
    patterns(svg, colors, uid);
    const fills = {1: colors.image, 2: colors.zero, 3: "#ffffff"};
    cat.forEach((row, r) => row.forEach((k, c) => {
      if (!k) return;
      rect(svg, r, c, 1, 1, {fill: fills[k], stroke: "#b0b0b0", "stroke-width": 0.5});
      if (k === 2) rect(svg, r, c, 1, 1, {fill: `url(#${uid}-zero)`});
      if (k === 3) rect(svg, r, c, 1, 1, {fill: `url(#${uid}-crop)`});
    }));
    read.forEach((row, pr) => row.forEach((k, pc) => {  // padded -> canvas: minus origin
      if (!k) rect(svg, pr - r0, pc - c0, 1, 1, {fill: `url(#${uid}-unread)`});
    }));
    const [[t], [l]] = rec.pads;
    const h_in = params.h_in;
    rect(svg, -r0, -c0, read.length, read[0].length,  // the padded input q_bar, dashed
         {fill: "none", stroke: "#000", "stroke-dasharray": "4 3"});
    rect(svg, t - r0, l - c0, h_in, h_in, {fill: "none", stroke: colors.edge,
                                            "stroke-width": 2.5});  // the image q
    const f = params.f;
    const win = (i, j, attrs) => rect(svg, rec.rows[i] - r0, rec.cols[j] - c0, f, f, attrs);
    const label = (r, c, text) => {
      const t = el("text", {x: (c + 0.5) * CELL, y: (r + 0.68) * CELL, "text-anchor": "middle",
                            "font-size": 10}, svg);
      t.textContent = text;
    };
    if (kind === "gradient") {  // eqs. 17-29: what q(i, j) feeds, and dq(i, j) on dz_bar
      const {i, j} = params;
      const feeds = [];
      rec.grows[i].forEach(([r, a]) => rec.gcols[j].forEach(([c, b]) => feeds.push([r, c, a, b])));
      feeds.forEach(([r, c]) => win(r, c, {fill: "none", stroke: colors.lit, "stroke-width": 2}));
      rect(svg, rec.gpix[i][0] - r0, rec.gpix[j][1] - c0, 1, 1, {fill: colors.edge});
      for (let r = 0; r < ho; r++) {
        for (let c = 0; c < wo; c++) {
          rect(svg, r, outX + c, 1, 1, {fill: "#f7f7f7", stroke: "#b0b0b0"});
        }
      }
      feeds.forEach(([r, c, a, b]) => {
        rect(svg, r, outX + c, 1, 1, {fill: colors.lit, stroke: "#000"});
        label(r, outX + c, `W${a}${b}`);
      });
      const inside = rec.dzin.split("/").map((row) => Array.from(row, Number));
      let n = 0;
      dzb.forEach((row, r) => row.forEach((k, c) => {
        rect(svg, r, barX + c, 1, 1, {fill: k ? colors.dz : inside[r][c] ? "#ffffff"
                                                                          : colors.zero,
                                      stroke: "#b0b0b0", "stroke-width": 0.5});
        if (k) label(r, barX + c, String(++n));
      }));
      // eq. 29: rot180(W) on dz_bar at (i, j), by the equation's own indices
      rect(svg, i, barX + j, f, f, {fill: "none", stroke: "#000", "stroke-width": 2.5});
    } else if (kind === "dilation") {  // eqs. 14-15: dz_hat laid on q_bar for dW(i, j)
      const {i, j} = params;
      const dhat = rec.dhat.split("/").map((row) => Array.from(row, Number));
      const top = rec.drows[i] - r0, left = rec.dcols[j] - c0;
      let n = 0;
      dhat.forEach((row, a) => row.forEach((k, b) => {
        rect(svg, top + a, left + b, 1, 1, {fill: k ? colors.dz : colors.dz_zero,
                                            "fill-opacity": k ? 0.9 : 0.7});
        if (k) {
          n += 1;
          const t = el("text", {x: (left + b + 0.5) * CELL, y: (top + a + 0.68) * CELL,
                                "text-anchor": "middle", "font-size": 11}, svg);
          t.textContent = String(n);
        }
      }));
      rect(svg, top, left, dhat.length, dhat[0].length,
           {fill: "none", stroke: "#000", "stroke-width": 2, "stroke-dasharray": "6 3"});
      for (let a = 0; a < f; a++) {
        for (let b = 0; b < f; b++) {
          rect(svg, a, outX + b, 1, 1, {fill: a === i && b === j ? colors.lit : "#f7f7f7",
                                         stroke: a === i && b === j ? "#000" : "#b0b0b0",
                                         "stroke-width": a === i && b === j ? 2 : 1});
        }
      }
    } else if (kind === "padding") {
      win(0, 0, {fill: "none", stroke: "#000", "stroke-width": 2});
      win(ho - 1, wo - 1, {fill: "none", stroke: "#000", "stroke-width": 2,
                           "stroke-dasharray": "6 3"});
    } else {
      const {i, j} = params;
      win(i, j, {fill: colors.lit, "fill-opacity": 0.75, stroke: "#000", "stroke-width": 2});
      const out = (r, c, attrs) => rect(svg, r, outX + c, 1, 1, attrs);
      for (let r = 0; r < ho; r++) {
        for (let c = 0; c < wo; c++) out(r, c, {fill: "#f7f7f7", stroke: "#b0b0b0"});
      }
      out(i, j, {fill: colors.lit, stroke: "#000", "stroke-width": 2});
      const near = [[i - 1, j], [i + 1, j], [i, j - 1], [i, j + 1]]
        .filter(([a, b]) => a >= 0 && b >= 0 && a < ho && b < wo);
      near.forEach(([a, b], k) => {
        const style = {fill: "none", stroke: colors.neighbour[k], "stroke-width": 2,
                       "stroke-dasharray": colors.dashes[k]};
        win(a, b, style);
        out(a, b, style);
      });
    }
    box.replaceChildren(svg);
    return svg;
  }

  function describe(kind, params, rec) {
    const [ph] = rec.p;
    const [[t, b]] = rec.pads;
    const [ho, wo] = rec.out;
    let text = `h_in = ${params.h_in}, f = ${params.f}, s = ${params.s}, ` +
      `h_out = ${params.h_out}: eq. 7 gives p = ${ph}` +
      (ph < 0 ? ` (a crop: ${-t} row(s) off the top, ${-b} off the bottom)`
              : ` (${t} row(s) of zeros before, ${b} after, eq. 8)`) +
      `; the output is ${ho} by ${wo}.`;
    if (kind === "gradient") {
      const feeds = [];
      rec.grows[params.i].forEach(([r, a]) => rec.gcols[params.j].forEach(([c, b]) =>
        feeds.push(`z(${r}, ${c}) through W(${a}, ${b})`)));
      text += ` Input pixel q(${params.i}, ${params.j}) feeds ${feeds.length} output(s): ` +
        `${feeds.join(", ")}; dq(${params.i}, ${params.j}) is rot180(W) on dz_bar at ` +
        `(${params.i}, ${params.j}), meeting exactly their dz entries (eq. 29).`;
    }
    if (kind === "dilation") {
      const dhat = rec.dhat.split("/");
      text += ` dz (${ho} by ${wo}) dilated by s = ${params.s} is ${dhat.length} by ` +
        `${dhat[0].length}; for dW(${params.i}, ${params.j}) its top-left entry sits on row ` +
        `${rec.drows[params.i]}, column ${rec.dcols[params.j]} of the padded input, and ` +
        `dW(${params.i}, ${params.j}) sums each entry of dz times the pixel under it.`;
    }
    if (kind === "windows") {
      const r = rec.rows[params.i], c = rec.cols[params.j];
      text += ` Output pixel z(${params.i}, ${params.j}) reads rows ${r}–${r + params.f - 1}` +
        ` and columns ${c}–${c + params.f - 1} of the padded input.`;
    }
    const unread = rec.read.split("/").filter((row) => !row.includes("1")).length;
    if (unread) text += ` ${unread} row(s) of the padded input are read by no window.`;
    return text;
  }

  function build(det, n) {
    const grid = S.grid;
    const kind = det.dataset.explorer;
    const colors = grid.colors;
    const form = document.createElement("form");
    form.id = `static-explorer-${n}`;
    form.className = "static-explorer-controls";
    form.addEventListener("submit", (e) => e.preventDefault());
    const init = {h_in: +det.dataset.hIn || 5, f: +det.dataset.f || 3, s: +det.dataset.s || 2,
                  h_out: det.dataset.hOut || "same"};
    const num = (xs) => xs.map((v) => [v, String(v)]);
    const c = {
      h_in: select(form, "h_in", "h_in (input size)", num(grid.h_in), init.h_in),
      f: select(form, "f", "f (filter width)", num(grid.f), init.f),
      s: select(form, "s", "s (stride)", num(grid.s), init.s),
      h_out: select(form, "h_out", "h_out (output size)",
                    grid.modes.map((m) => [m, `'${m}'`]).concat(num(grid.custom)), init.h_out),
    };
    if (kind === "windows") {
      c.i = select(form, "i", "i (output row)", [[0, "0"]], 0);
      c.j = select(form, "j", "j (output column)", [[0, "0"]], 0);
    } else if (kind === "dilation") {
      c.i = select(form, "i", "i (row of dW)", [[0, "0"]], 0);
      c.j = select(form, "j", "j (column of dW)", [[0, "0"]], 0);
    } else if (kind === "gradient") {
      c.i = select(form, "i", "i (input row)", [[0, "0"]], +det.dataset.i || 0);
      c.j = select(form, "j", "j (input column)", [[0, "0"]], +det.dataset.j || 0);
    }
    const picture = document.createElement("div");
    picture.className = "static-explorer-picture";
    const legend = document.createElement("p");
    legend.className = "static-explorer-legend";
    legend.textContent = "Blue: pixels of q (heavy outline); grey, hatched: zeros of the " +
      "padding; red cross-hatching: pixels cropped away (p < 0); dots: cells no window " +
      "reads; dashed outline: the padded input. " + (kind === "windows"
        ? "Orange: the window of z(i, j) and the pixel itself in the output grid on the " +
          "right; each neighbouring output's window has its own colour and dash pattern."
        : kind === "gradient"
          ? "Dark: the input pixel q(i, j); orange outlines: the windows that read it; " +
            "orange cells in the middle grid: the outputs it feeds, labelled with the " +
            "filter entry that multiplies it; right: dz_bar, dz dilated and padded (green, " +
            "numbered: the entries of dz; grey: padding), with rot180(W) at (i, j) outlined."
        : kind === "dilation"
          ? "Green, numbered: the entries of dz, dilated (pale: the zeros between them), " +
            "laid on the padded input for dW(i, j), which is marked on the f by f grid on " +
            "the right."
          : "Black outlines: the first window (solid) and the last one (dashed).");
    const said = document.createElement("p");
    said.className = "static-explorer-text";
    said.setAttribute("aria-live", "polite");
    det.append(form, said, picture, legend);

    function redraw() {
      const p = {h_in: +c.h_in.value, f: +c.f.value, s: +c.s.value, h_out: c.h_out.value};
      const rec = grid.layers[`${p.h_in},${p.f},${p.s},${p.h_out}`];
      if (typeof rec === "string" || !rec) {
        said.textContent = rec || "This layer is outside the explorer's range.";
        picture.replaceChildren();
        return;
      }
      if (kind !== "padding") {  // i, j: an output pixel, or an entry of the f x f dW
        const [ho, wo] = {windows: rec.out, dilation: [p.f, p.f],
                          gradient: [p.h_in, p.h_in]}[kind];
        fill(c.i, num([...Array(ho).keys()]), c.i.value);
        fill(c.j, num([...Array(wo).keys()]), c.j.value);
        p.i = +c.i.value;
        p.j = +c.j.value;
      }
      said.textContent = describe(kind, p, rec);
      const svg = draw(picture, kind, p, rec, colors, form.id);
      el("title", {}, svg).textContent = said.textContent;
      svg.setAttribute("aria-label", said.textContent);
    }
    Object.values(c).forEach((sel) => sel.addEventListener("change", redraw));
    redraw();
  }

  function init() {
    document.querySelectorAll("details.static-explorer").forEach((det, n) => {
      det.addEventListener("toggle", () => {
        if (det.open && !det.dataset.ready) {
          det.dataset.ready = "1";
          need(det.dataset.src, () => build(det, n));
        }
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
