// Loaded before require.js and the widget manager on pages that embed widget state
// (myst-nb's nb_ipywidgets_js in _config.yml). Copied to _static/offline/ by
// offline/offline_assets.py.
(function () {
  "use strict";
  var here = document.currentScript && document.currentScript.src;
  // The widget manager's webpack bundle requests its fonts relative to this path, which would
  // otherwise be the page's own folder (404).
  // The AMD module of the manager computes that path from its own require.js URL, so tell
  // require.js (configuration object read when require.js loads) where the module lives.
  if (here) {
    var managerDir = new URL("html-manager/", here).href;
    window.__jupyter_widgets_assets_path__ = managerDir;
    if (typeof window.requirejs === "undefined" && typeof window.require === "undefined") {
      window.require = {
        paths: { "@jupyter-widgets/html-manager/dist": managerDir.replace(/\/$/, "") },
      };
    }
  }

  // The widget manager typesets labels with MathJax 2's API (MathJax.Hub.Queue); the book
  // loads MathJax 3. Give MathJax 3 that one entry point once it has loaded.
  // Widget labels write math as $...$ (as in JupyterLab); the book's MathJax 3 only knows
  // \(...\) and $$...$$ (Sphinx's delimiters), so rewrite the label's text before typesetting.
  function toTexDelimiters(element) {
    var walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    var node;
    while ((node = walker.nextNode())) {
      if (node.textContent.indexOf("$") >= 0) {
        node.textContent = node.textContent.replace(
          /(^|[^\\$])\$([^$]+?)\$(?!\$)/g,
          function (m, before, tex) { return before + "\\(" + tex + "\\)"; }
        );
      }
    }
  }
  var pending = [];
  function installHub() {
    var mj = window.MathJax;
    if (!mj || mj.Hub) {
      return;
    }
    if (!mj.version) {
      // Still the configuration object (MathJax 3 not executed yet): remember the jobs.
      mj.Hub = { Queue: function (job) { pending.push(job); } };
      return;
    }
    mj.Hub = {
      Queue: function (job) {
        var element = job && job[2];
        if (element) {
          toTexDelimiters(element);
        }
        var ready = (mj.startup && mj.startup.promise) || Promise.resolve();
        ready
          .then(function () {
            return mj.typesetPromise ? mj.typesetPromise(element ? [element] : undefined) : null;
          })
          .catch(function (err) {
            console.error("MathJax typeset of a widget failed", err);
          });
      },
    };
  }
  function flush() {
    installHub();
    var mj = window.MathJax;
    if (mj && mj.version && mj.Hub) {
      pending.splice(0).forEach(mj.Hub.Queue);
    }
  }
  installHub();
  document.addEventListener("DOMContentLoaded", flush);
  window.addEventListener("load", flush);
})();
