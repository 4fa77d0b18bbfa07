// Loaded before require.js and embed-amd.js (nb_ipywidgets_js in _config.yml); written by .ci/vendor-js.
// Tells the widget manager that its font files are next to this file, in _static/.
window.__jupyter_widgets_assets_path__ = document.currentScript.src.replace(/[^/]*$/, "");
