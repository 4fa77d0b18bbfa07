"""The rendered book, opened page by page in headless Chromium with no network.

What a reader sees is checked per page: math typeset by MathJax (no raw ``\\(``/``$$`` left), every
``<img>`` loaded, every widget of a page with saved widget state rendered (and only once), no font or
script that failed to load, and no request to any host but the book's own (no CDN at read time; the
JavaScript is vendored under ``book/_vendor/``, see ``_config.yml``).

How: the built HTML is served from 127.0.0.1 by a small HTTP server that injects a ``<script>`` into
each page. The script waits for the load event, MathJax's ``startup.promise`` and the widgets, then
writes a JSON verdict into a ``<div id="render-check">``, which ``chromium --headless --dump-dom``
prints. Host names resolve to nothing (``--host-resolver-rules``), so a CDN cannot be reached.

The browser tests are marked ``browser`` and are left out of the default ``pytest`` run (a quick-budget
build of the whole book takes minutes; see README). Run them with ``python -m pytest -m browser``;
they skip when no Chromium is found (``$CHROME``, ``chromium``, ``chromium-browser``, ``google-chrome``).

By hand, on a book that is already built (read-only; nothing is written into it)::

    python tests/test_rendered_book.py _build/html
"""

from __future__ import annotations

import functools
import html
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import zlib
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Pages that are generated indexes, not book content: no math, figures or widgets of ours.
SKIP = {
    "genindex.html": "generated index page",
    "search.html": "search page (its results need the search index, not a rendering check)",
}
VIRTUAL_TIME_MS = 30_000  # Chromium's virtual clock: timers run fast, so this is not wall time
PAGE_TIMEOUT_S = 180  # wall time per page, generous for a loaded 2-core machine

CHECK_JS = r"""
(function () {
  var failed = [], jsErrors = [];
  window.addEventListener('error', function (e) {
    var t = e.target;
    if (t && t !== window && t.tagName) {
      failed.push(t.tagName.toLowerCase() + ' ' + (t.src || t.href || t.currentSrc || ''));
    } else {
      jsErrors.push(String(e.message));
    }
  }, true);
  window.addEventListener('unhandledrejection', function (e) { jsErrors.push('unhandled rejection: ' + e.reason); });
  function wait(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
  function loaded() {
    return new Promise(function (r) {
      if (document.readyState === 'complete') r(); else window.addEventListener('load', function () { r(); });
    });
  }
  function external(url) {
    try { var u = new URL(url, location.href); } catch (e) { return false; }
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.host !== location.host;
  }
  function rendered(view) {
    var s = view.previousElementSibling;
    return !!(s && s.classList.contains('widget-subarea') && s.childElementCount > 0);
  }
  async function run() {
    document.addEventListener('DOMContentLoaded', function () {
      Array.from(document.images).forEach(function (im) { im.loading = 'eager'; });
    });
    await loaded();
    var v = {url: location.pathname};
    var mj = window.MathJax;
    v.mathjax_loaded = !!(mj && mj.startup && mj.startup.promise);
    if (v.mathjax_loaded) {
      try { await mj.startup.promise; } catch (e) { jsErrors.push('MathJax: ' + e); }
    }
    var views = Array.from(document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]'));
    for (var i = 0; i < 200 && !views.every(rendered); i++) await wait(100);
    for (var j = 0; j < 100 && !Array.from(document.images).every(function (im) { return im.complete; }); j++) {
      await wait(100);
    }
    await wait(300);  // let late font and script loads report
    var maths = Array.from(document.querySelectorAll('.math'));
    v.math_elements = maths.length;
    v.math_typeset = document.querySelectorAll('mjx-container').length;
    v.math_untypeset = maths.filter(function (m) { return !m.querySelector('mjx-container'); })
      .slice(0, 5).map(function (m) { return m.textContent.trim().slice(0, 80); });
    v.math_errors = Array.from(document.querySelectorAll('mjx-merror')).slice(0, 5).map(function (m) {
      return m.getAttribute('data-mjx-error') || m.textContent.slice(0, 80);
    });
    function chtmlText(m) {  // CHTML draws characters with CSS; their code points are in the class names
      return Array.from(m.querySelectorAll('mjx-c')).map(function (c) {
        var k = /mjx-c([0-9A-F]+)/.exec(c.className);
        return k ? String.fromCodePoint(parseInt(k[1], 16)) : '';
      }).join('');
    }
    v.math_undefined = Array.from(document.querySelectorAll('mjx-container mjx-mtext[style*="color: red"]'))
      .map(chtmlText).filter(function (t) { return t.charAt(0) === '\\'; }).slice(0, 5);
    var raw = [], walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT), node;
    var skip = 'script,style,pre,code,textarea,mjx-container,.highlight,.widget-subarea,#render-check';
    while ((node = walker.nextNode())) {
      // \( \[ $$ left by MathJax, or $\macro pasted as plain text (glued text is not parsed as math)
      var rawTex = /\\\(|\\\[|\$\$|\$\\[a-zA-Z]/;
      if (rawTex.test(node.nodeValue) && !(node.parentElement && node.parentElement.closest(skip))) {
        raw.push(node.nodeValue.trim().slice(0, 80));
      }
    }
    v.raw_tex = raw.slice(0, 5);
    // A Markdown table left as text (a notebook's Markdown output rendered without table support).
    var rawTables = [], tableRule = /\|\s*:?[-\u2013\u2014]{1,}:?\s*\|/;
    walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while ((node = walker.nextNode())) {
      if (tableRule.test(node.nodeValue) && !(node.parentElement && node.parentElement.closest(skip))) {
        rawTables.push(node.nodeValue.trim().slice(0, 80));
      }
    }
    v.raw_tables = rawTables.slice(0, 5);
    v.images = document.images.length;
    v.image_alts = Array.from(document.images).map(function (im) {
      return [(im.getAttribute('src') || '').slice(0, 120), im.getAttribute('alt')];
    });
    v.images_broken = Array.from(document.images)
      .filter(function (im) { return !(im.complete && im.naturalWidth > 0); })
      .map(function (im) { return im.getAttribute('src').slice(0, 120); });
    v.widget_state = !!document.querySelector('script[type="application/vnd.jupyter.widget-state+json"]');
    v.widget_views = views.length;
    v.widget_views_unrendered = views.filter(function (x) { return !rendered(x); }).length;
    v.widget_subareas = document.querySelectorAll('.widget-subarea').length;
    v.widget_elements = document.querySelectorAll('.jupyter-widgets, [class*="widget-"]').length;
    v.failed_resources = failed.slice(0, 10);
    v.fonts_failed = [];
    document.fonts.forEach(function (f) { if (f.status === 'error') v.fonts_failed.push(f.family); });
    var refs = Array.from(document.querySelectorAll('script[src], img[src], link[rel~="stylesheet"][href]'))
      .map(function (e) { return e.src || e.href; });
    var loads = performance.getEntriesByType('resource').map(function (e) { return e.name; });
    v.external = Array.from(new Set(refs.concat(loads).filter(external))).slice(0, 10);
    // Slider figures (plotting.slider_figure, matplotlib's JavaScript player): move each slider to its last
    // position as a reader would, and see whether the picture changes.
    var players = Array.from(document.querySelectorAll('div.animation'));
    v.sliders = players.length;
    v.sliders_moved = 0;
    v.sliders_stuck = [];
    for (var p = 0; p < players.length; p++) {
      var img = players[p].querySelector('img[id^="_anim_img"]');
      var slider = players[p].querySelector('input.anim-slider');
      for (var w = 0; w < 50 && !(img && img.getAttribute('src')); w++) await wait(100);
      var before = img ? img.getAttribute('src') : null;
      if (slider && Number(slider.max) > 0) {
        slider.value = slider.max;
        slider.dispatchEvent(new Event('input', {bubbles: true}));
        await wait(100);
      }
      var after = img ? img.getAttribute('src') : null;
      if (before && after && before !== after) v.sliders_moved++;
      else v.sliders_stuck.push((slider ? slider.id : 'no slider') + ' (max ' + (slider ? slider.max : '?') + ')');
    }
    v.js_errors = jsErrors.slice(0, 5);
    return v;
  }
  function report(v) {
    var out = document.createElement('div');  // not a <pre>: the theme adds attributes to those
    out.id = 'render-check';
    out.hidden = true;
    out.textContent = JSON.stringify(v);
    document.body.appendChild(out);
  }
  run().then(report, function (e) { report({error: 'check script failed: ' + e}); });
})();
"""
VERDICT = re.compile(r'<div[^>]* id="render-check"[^>]*>(.*?)</div>', re.S)


def find_chrome() -> str | None:
    """The Chromium binary: $CHROME, else the first of chromium, chromium-browser, google-chrome on PATH."""
    if os.environ.get("CHROME"):
        return shutil.which(os.environ["CHROME"])
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if path := shutil.which(name):
            return path
    return None


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the built book; every HTML page gets the check script as the first thing in <head>."""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        path = Path(self.translate_path(self.path))
        if path.suffix != ".html" or not path.is_file():
            return super().do_GET()
        page = path.read_text(encoding="utf-8")
        tag = f"<script>{CHECK_JS}</script>"
        page = re.sub(r"<head[^>]*>", lambda m: m.group(0) + tag, page, count=1)
        body = page.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextmanager
def serve(root: Path):
    """Serve `root` at http://127.0.0.1:PORT/ for the duration of the block."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def run_page(chrome: str, url: str, tries: int = 2) -> dict:
    """Open `url` in headless Chromium with no name resolution; return the page's verdict (or an error).

    A run whose page shows no verdict (Chromium gave up before the check finished) is tried again."""
    for _ in range(tries):
        verdict = _run_page_once(chrome, url)
        if not verdict.get("error", "").startswith("no verdict"):
            break
    return verdict


def _run_page_once(chrome: str, url: str) -> dict:
    with tempfile.TemporaryDirectory() as profile:
        cmd = [
            chrome, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-extensions", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            f"--user-data-dir={profile}", "--window-size=1280,2000", f"--virtual-time-budget={VIRTUAL_TIME_MS}",
            "--dump-dom", url,
        ]  # fmt: skip
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=PAGE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return {"error": f"Chromium did not finish within {PAGE_TIMEOUT_S} s"}
    found = VERDICT.search(out.stdout)
    if not found:
        tail = (out.stderr or "").strip().splitlines()[-3:]
        return {"error": f"no verdict in the page (rc {out.returncode}; stderr tail: {tail})"}
    return json.loads(html.unescape(found.group(1)))


MIN_ALT = 10  # characters: "Colab logo" is the shortest real alt text of the book's pages


def real_alt_text(alt: str | None) -> bool:
    """Whether an image's alt text says something: present, not blank, not a file name, not a stub."""
    if alt is None:
        return False
    alt = alt.strip()
    return len(alt) >= MIN_ALT and not re.fullmatch(r"[\w./-]+\.(png|jpe?g|svg|gif|webp)", alt, re.I)


def problems(v: dict) -> list[str]:
    """What is wrong with a page, from its verdict; empty when it renders as it should."""
    if "error" in v:
        return [v["error"]]
    out = []
    if v["math_elements"] and not v["mathjax_loaded"]:
        out.append(f"MathJax did not load: {v['math_elements']} math elements left as TeX")
    elif v["math_untypeset"]:
        out.append(f"math not typeset: {v['math_untypeset']}")
    if v["math_errors"]:
        out.append(f"MathJax errors: {v['math_errors']}")
    if v["math_undefined"]:
        out.append(f"undefined TeX macros: {v['math_undefined']}")
    if v["raw_tex"]:
        out.append(f"raw TeX delimiters in the text: {v['raw_tex']}")
    if v.get("raw_tables"):
        out.append(f"Markdown tables left as text: {v['raw_tables']}")
    if v["images_broken"]:
        out.append(f"images not loaded: {v['images_broken']}")
    no_alt = [src for src, alt in v.get("image_alts", []) if not real_alt_text(alt)]
    if no_alt:
        out.append(f"images without real alt text (none, blank, a file name, or under {MIN_ALT} characters): {no_alt}")
    if v["widget_state"] and (v["widget_views_unrendered"] or not v["widget_elements"]):
        out.append(
            f"widgets not rendered: {v['widget_views_unrendered']} of {v['widget_views']} views empty, "
            f"{v['widget_elements']} widget elements"
        )
    if v["widget_subareas"] > v["widget_views"]:
        out.append(f"widgets rendered more than once: {v['widget_subareas']} areas for {v['widget_views']} views")
    if v["failed_resources"]:
        out.append(f"resources failed to load: {v['failed_resources']}")
    if v["fonts_failed"]:
        out.append(f"fonts failed to load: {sorted(set(v['fonts_failed']))}")
    if v["external"]:
        out.append(f"needs the network (CDN): {v['external']}")
    if v.get("sliders_stuck"):
        out.append(f"slider figures whose picture does not change when the slider moves: {v['sliders_stuck']}")
    return out


def book_pages(html_dir: Path) -> tuple[list[str], dict[str, str]]:
    """The HTML pages to check (relative paths) and the skipped ones with their reason."""
    pages, skipped = [], {}
    for path in sorted(html_dir.rglob("*.html")):
        rel = path.relative_to(html_dir).as_posix()
        if rel.split("/")[0] in ("_static", "_sources", "_images", "reports", "jupyter_execute"):
            continue
        if rel in SKIP:
            skipped[rel] = SKIP[rel]
        elif 'http-equiv="Refresh"' in path.read_text(encoding="utf-8", errors="replace")[:2000]:
            skipped[rel] = "redirect to the root page"
        else:
            pages.append(rel)
    return pages, skipped


def toc_files(root: Path = ROOT) -> list[str]:
    """Every file the book's _toc.yml names, in its order: the root page first, then each entry's ``file``."""
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in toc.items() if k != "root"})
    return files


def toc_pages() -> tuple[list[str], list[str]]:
    """Pages the book's _toc.yml promises (as book/X.html) whose source exists, and entries with no source yet."""
    files = toc_files()
    present = [f for f in files if any((ROOT / f"{f}{ext}").exists() for ext in (".md", ".ipynb"))]
    return [f"{f}.html" for f in present], [f for f in files if f not in present]


def check_book(html_dir: Path, chrome: str, log=print,
               verdicts: dict[str, dict] | None = None) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Check every page of a built book; returns {page: problems} (all pages) and the skipped pages.

    ``verdicts``, if given, receives each page's verdict (what the check script measured)."""
    pages, skipped = book_pages(html_dir)
    results = {}
    with serve(html_dir) as base:
        for page in pages:
            verdict = run_page(chrome, base + page)
            if verdicts is not None:
                verdicts[page] = verdict
            results[page] = problems(verdict)
            moved = f" ({verdict['sliders_moved']} slider(s) moved)" if verdict.get("sliders_moved") else ""
            details = "".join(f"\n       {p}" for p in results[page])
            log(f"{'FAIL' if results[page] else 'ok  '} {page}{moved}{details}")
    return results, skipped


# ---------------------------------------------------------------------------------------------- tests


def test_real_alt_text_says_something():
    assert real_alt_text("The PINN's prediction lies on the exact solution")
    assert not any(real_alt_text(alt) for alt in (None, "", "   ", "figure", "0cd4f7b9c6fb.png", "_images/plot.PNG"))


def test_book_serves_its_javascript_itself():
    """No browser needed: _config.yml points MathJax and the widget manager at the files in book/_vendor."""
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    sphinx = config["sphinx"]["config"]
    assert sphinx["html_static_path"] == ["book/_vendor"]
    assert "book/_vendor" in config["exclude_patterns"]
    vendor = ROOT / "book" / "_vendor"
    for name in [sphinx["mathjax_path"], *sphinx["nb_ipywidgets_js"]]:
        assert "://" not in name and (vendor / name).is_file(), name
    assert list((vendor / "mathjax/output/chtml/fonts/woff-v2").glob("*.woff"))
    assert sphinx["mathjax3_config"]["tex"]["macros"]
    # Jupyter Book adds every .js/.css of the static path to every page once a _static/ folder exists at the
    # root: the widgets would render twice.
    assert not (ROOT / "_static").exists()
    assert not list(vendor.rglob("*.md")) and not list(vendor.rglob("*.ipynb"))


@pytest.fixture(scope="module")
def chrome():
    path = find_chrome()
    if path is None:
        pytest.skip("no Chromium found ($CHROME, chromium, chromium-browser, google-chrome); apt-get install chromium")
    return path


def _png(path: Path) -> None:
    """A valid 2x2 red PNG."""

    def chunk(kind, data):
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    ihdr = (2).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    )


WIDGET_STATE = (
    '<script type="application/vnd.jupyter.widget-state+json">{"state": {"m1": {"model_name": "IntSliderModel",'
    ' "model_module": "@jupyter-widgets/controls", "model_module_version": "2.0.0", "state": {"value": 3,'
    ' "max": 5, "description": "n"}}}, "version_major": 2, "version_minor": 0}</script>'
)
WIDGET_VIEW = (
    '<div><script type="application/vnd.jupyter.widget-view+json">{"model_id": "m1", "version_major": 2,'
    ' "version_minor": 0}</script></div>'
)


def _page(folder: Path, head: str, body: str) -> None:
    macros = 'window.MathJax = {"tex": {"macros": {"L": "\\\\mathcal{L}"}}, "options": {"processHtmlClass": "math"}};'
    folder.joinpath("page.html").write_text(
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><script>{macros}</script>{head}</head>'
        f'<body class="document"><p>Loss <span class="math notranslate nohighlight">\\(\\L_r + \\lambda\\)</span>.</p>'
        f"{body}</body></html>"
    )


def _vendored(folder: Path) -> str:
    shutil.copytree(ROOT / "book" / "_vendor", folder / "_static")
    return (
        '<script defer src="_static/mathjax/tex-chtml-full.js"></script>'
        '<script src="_static/require.js"></script><script src="_static/embed-amd.js"></script>'
    )


@pytest.mark.browser
def test_checker_passes_a_page_served_with_its_javascript(chrome, tmp_path):
    _png(tmp_path / "ok.png")
    _page(tmp_path, _vendored(tmp_path), f'<img src="ok.png" alt="a red square, two pixels wide">{WIDGET_STATE}'
                                         f'{WIDGET_VIEW}')
    with serve(tmp_path) as base:
        verdict = run_page(chrome, base + "page.html")
    assert problems(verdict) == [], verdict
    assert verdict["math_typeset"] == 1 and verdict["images"] == 1 and verdict["widget_elements"] > 0


@pytest.mark.browser
def test_checker_catches_a_broken_image_and_bad_tex(chrome, tmp_path):
    body = (
        '<img src="missing.png" alt="a picture that is missing"><img src="ok.png" alt="ok.png"><img src="ok.png">'
        '<p><span class="math notranslate nohighlight">\\(x^1^2\\)</span>'
        '<span class="math notranslate nohighlight">\\(\\nosuchmacro\\)</span></p>'
    )
    _page(tmp_path, _vendored(tmp_path), body)
    with serve(tmp_path) as base:
        found = problems(run_page(chrome, base + "page.html"))
    assert any("images not loaded" in p and "missing.png" in p for p in found), found
    assert any("without real alt text" in p and p.count("ok.png") == 2 for p in found), found  # a file name, none
    assert any("MathJax errors" in p and "Double exponent" in p for p in found), found
    assert any("undefined TeX macros" in p and "nosuchmacro" in p for p in found), found


@pytest.mark.browser
def test_checker_catches_the_cdn_configuration(chrome, tmp_path):
    """Sphinx/myst-nb's defaults: MathJax, require.js and the widget manager from CDNs, unreachable here."""
    cdn = (
        '<script defer src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>'
        '<script src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.3.4/require.min.js"></script>'
        '<script src="https://cdn.jsdelivr.net/npm/@jupyter-widgets/html-manager@1.0.6/dist/embed-amd.js"></script>'
    )
    _page(tmp_path, cdn, f"{WIDGET_STATE}{WIDGET_VIEW}")
    with serve(tmp_path) as base:
        found = problems(run_page(chrome, base + "page.html"))
    text = "\n".join(found)
    assert "MathJax did not load" in text and "widgets not rendered" in text and "needs the network" in text, text


@pytest.fixture(scope="module")
def built_book(chrome, tmp_path_factory):
    """The book built at the environment's budget (quick under pytest) into a temporary folder."""
    out = tmp_path_factory.mktemp("book")
    cmd = [sys.executable, "-m", "jupyter_book", "build", str(ROOT), "--path-output", str(out)]
    if shutil.which("jupyter-book"):
        cmd = ["jupyter-book", "build", str(ROOT), "--path-output", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, f"book build failed:\n{(done.stdout + done.stderr)[-4000:]}"
    return out / "_build" / "html"


@pytest.mark.browser
def test_every_page_of_the_book_renders_offline(chrome, built_book):
    promised, not_written = toc_pages()
    if not_written:
        import warnings

        warnings.warn(f"_toc.yml lists chapters with no source yet (not checked): {not_written}", stacklevel=1)
    verdicts = {}
    results, skipped = check_book(built_book, chrome, verdicts=verdicts)
    missing = [p for p in promised if p not in results]
    assert not missing, f"pages of _toc.yml not built: {missing}"
    failed = {page: found for page, found in results.items() if found}
    assert not failed, "pages that do not render offline:\n" + "\n".join(f"{k}: {v}" for k, v in failed.items())
    assert set(skipped) <= {*SKIP, "index.html"}
    # The explorations of chapters 2, 3 and 7 ship as slider figures that work on the page itself.
    moved = sorted(page for page, v in verdicts.items() if v.get("sliders_moved"))
    assert len(moved) >= 3, f"pages where a slider was moved and its figure changed: {moved}"
    assert {"book/02_when_training_fails.html", "book/03_gradient_bounds.html"} <= set(moved), moved


def _slider_page(folder: Path, frames: list[float]) -> None:
    from pinn_tutorial.plotting import slider_figure

    figure = slider_figure(lambda fig, c: fig.add_subplot().plot([0, 1], [0, c]) and None, frames,
                           alt="a line whose slope is the frame's value", figsize=(3, 2))
    _vendored(folder)  # MathJax only: the page has no widgets (and the widget manager's fonts need its path script)
    _page(folder, '<script defer src="_static/mathjax/tex-chtml-full.js"></script>', figure._repr_html_())


@pytest.mark.browser
def test_checker_moves_a_slider_figure_and_sees_it_change(chrome, tmp_path):
    _slider_page(tmp_path, [1.0, 2.0, 3.0])
    with serve(tmp_path) as base:
        verdict = run_page(chrome, base + "page.html")
    assert problems(verdict) == [], verdict
    assert verdict["sliders"] == 1 and verdict["sliders_moved"] == 1


@pytest.mark.browser
def test_checker_catches_a_slider_figure_that_does_not_change(chrome, tmp_path):
    _slider_page(tmp_path, [1.0, 1.0])  # two identical frames: moving the slider shows the same picture
    with serve(tmp_path) as base:
        verdict = run_page(chrome, base + "page.html")
    assert verdict["sliders"] == 1 and verdict["sliders_moved"] == 0
    assert any("does not change" in p for p in problems(verdict)), problems(verdict)


# ------------------------------------------------------------------------------------------- by hand


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print("usage: python tests/test_rendered_book.py BUILT_HTML_DIR   (e.g. _build/html)", file=sys.stderr)
        return 2
    chrome = find_chrome()
    if chrome is None:
        print("no Chromium found ($CHROME, chromium, chromium-browser, google-chrome)", file=sys.stderr)
        return 2
    html_dir = Path(argv[0]).resolve()
    print(f"checking {html_dir} with {chrome}, offline")
    verdicts = {}
    results, skipped = check_book(html_dir, chrome, verdicts=verdicts)
    for page, why in skipped.items():
        print(f"skip {page}: {why}")
    promised, not_written = toc_pages()
    missing = [p for p in promised if p not in results]
    for page in missing:
        print(f"FAIL {page}: listed in _toc.yml, has a source, but was not built")
    if not_written:
        print(f"note: _toc.yml entries with no source yet: {not_written}")
    failed = [p for p, found in results.items() if found] + missing
    moved = sorted(page for page, v in verdicts.items() if v.get("sliders_moved"))
    print(f"{len(results)} pages checked, {len(skipped)} skipped, {len(failed)} failed; "
          f"a slider moved and its figure changed on {len(moved)} page(s): {moved}")
    return 1 if failed or len(moved) < 3 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
