// @jupyter-widgets/html-manager 1.x typesets widget text with MathJax 2's API
// (MathJax.Hub.Queue(["Typeset", MathJax.Hub, element])) whenever window.MathJax exists, but
// Sphinx loads MathJax 3, which has no Hub: every widget on a page with a formula then throws
// "Cannot read properties of undefined (reading 'Queue')". This keeps a MathJax.Hub.Queue on
// whatever object window.MathJax is (Sphinx's config, then MathJax 3 itself) that forwards to
// MathJax 3's typesetPromise. Loaded first (priority 100) by _config.yml's html_js_files.
(function () {
  "use strict";
  function withHub(mathjax) {
    if (mathjax && typeof mathjax === "object" && !mathjax.Hub) {
      mathjax.Hub = {
        Queue: function (job) {
          var element = Array.isArray(job) ? job[2] : undefined;
          if (typeof mathjax.typesetPromise === "function") {
            mathjax.typesetPromise(element ? [element] : undefined).catch(function () {});
          }
        },
      };
    }
    return mathjax;
  }
  var current = withHub(window.MathJax);
  Object.defineProperty(window, "MathJax", {
    configurable: true,
    get: function () {
      return current;
    },
    set: function (value) {
      current = withHub(value);
    },
  });
})();
