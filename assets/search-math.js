// Search results: Sphinx shows a snippet of each page's text, and a page's text still
// holds its math as LaTeX source (MathJax typesets it only on the page itself), so a
// snippet read "\(\sigma(x) = \frac{1}{1 + e^{-x}}\)". This rewrites each math element as
// plain text ("σ(x) = 1/(1 + e⁻ˣ)") before Sphinx cuts its snippet, and leaves out the
// interactive figures' controls. Runs only where Sphinx's search code is loaded.
(function () {
  "use strict";
  var SYMBOLS = {
    alpha: "α", beta: "β", gamma: "γ", delta: "δ", epsilon: "ε", varepsilon: "ε", zeta: "ζ",
    eta: "η", theta: "θ", kappa: "κ", lambda: "λ", mu: "μ", nu: "ν", xi: "ξ", pi: "π",
    rho: "ρ", sigma: "σ", tau: "τ", phi: "φ", varphi: "φ", chi: "χ", psi: "ψ", omega: "ω",
    Gamma: "Γ", Delta: "Δ", Theta: "Θ", Lambda: "Λ", Sigma: "Σ", Phi: "Φ", Psi: "Ψ", Omega: "Ω",
    cdot: "·", times: "×", partial: "∂", nabla: "∇", sum: "Σ", prod: "Π", infty: "∞",
    leq: "≤", le: "≤", geq: "≥", ge: "≥", neq: "≠", ne: "≠", approx: "≈", sim: "~",
    to: "→", rightarrow: "→", leftarrow: "←", Rightarrow: "⇒", mapsto: "↦", in: "∈",
    odot: "⊙", otimes: "⊗", pm: "±", ldots: "…", dots: "…", cdots: "…", sqrt: "√",
    log: "log", exp: "exp", max: "max", min: "min", ln: "ln", tanh: "tanh", lvert: "|",
    rvert: "|", vert: "|", lVert: "‖", rVert: "‖", langle: "⟨", rangle: "⟩", top: "ᵀ"
  };
  var SUB = {"0": "₀", "1": "₁", "2": "₂", "3": "₃", "4": "₄", "5": "₅", "6": "₆", "7": "₇",
             "8": "₈", "9": "₉", "+": "₊", "-": "₋", "i": "ᵢ", "j": "ⱼ", "k": "ₖ", "t": "ₜ"};
  var SUP = {"0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶", "7": "⁷",
             "8": "⁸", "9": "⁹", "+": "⁺", "-": "⁻", "T": "ᵀ", "x": "ˣ", "n": "ⁿ", "i": "ⁱ"};

  function script(text, table, mark) {  // w_1 -> w₁; x^{-1} -> x⁻¹; else keep the mark
    var out = "";
    for (var i = 0; i < text.length; i++) {
      if (!(text[i] in table)) return mark + text;
      out += table[text[i]];
    }
    return out;
  }

  function plain(tex) {
    var s = tex.replace(/^\s*(\\\(|\\\[|\$\$?)/, "").replace(/(\\\)|\\\]|\$\$?)\s*$/, "");
    s = s.replace(/\\(left|right|big|Big|bigg|Bigg)\b/g, "");
    for (var i = 0; i < 4; i++) {  // inner groups first
      s = s.replace(/\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}/g, function (m, a, b) {
        return (a.length > 1 ? "(" + a + ")" : a) + "/" + (b.length > 1 ? "(" + b + ")" : b);
      });
      s = s.replace(/\\(?:text|mathrm|mathbf|mathit|boldsymbol|operatorname|mathcal|hat|bar|tilde|vec)\s*\{([^{}]*)\}/g, "$1");
      s = s.replace(/_\{([^{}]*)\}/g, function (m, a) { return script(a, SUB, "_"); });
      s = s.replace(/\^\{([^{}]*)\}/g, function (m, a) { return script(a, SUP, "^"); });
    }
    s = s.replace(/\\([A-Za-z]+)/g, function (m, name) {
      return name in SYMBOLS ? SYMBOLS[name] : "";
    });
    s = s.replace(/_([A-Za-z0-9])/g, function (m, a) { return script(a, SUB, "_"); });
    s = s.replace(/\^([A-Za-z0-9])/g, function (m, a) { return script(a, SUP, "^"); });
    s = s.replace(/\\\\|&|~|\\[,;:!]|\\ /g, " ").replace(/[{}]/g, "");
    return s.replace(/\s+/g, " ").trim();
  }

  function patch() {
    if (typeof Search === "undefined" || !Search.htmlToText || Search.htmlToText.sdlPlainMath) return;
    var original = Search.htmlToText;
    Search.htmlToText = function (htmlString, anchor) {
      var doc = new DOMParser().parseFromString(htmlString, "text/html");
      doc.querySelectorAll(".math").forEach(function (el) { el.textContent = plain(el.textContent); });
      doc.querySelectorAll("[data-sdl-player] .sdl-controls, [data-sdl-player] figcaption")
        .forEach(function (el) { el.remove(); });
      return original(doc.documentElement.outerHTML, anchor);
    };
    Search.htmlToText.sdlPlainMath = true;
  }

  window.sdlPlainMath = plain;  // for the browser test
  patch();
  document.addEventListener("DOMContentLoaded", patch);
})();
