"""The reproduction machinery: runs on disk, sweeps, tables, statistics, timings and the authors' code, around the
core (problems, networks, weightings, the step engine), which never imports it. Its modules:

- ``experiments``: the run spec (every setting declared once: flag, file name, label, identity), one run (or one
  ensemble of runs) and its JSON result files;
- ``sweeps``: many runs at once: ensembles trained by local worker processes or on a Ray cluster;
- ``paper_tables``: the paper's tables: every method on a benchmark, several seeds, ours beside theirs;
- ``comparison``: comparing errors over seeds on the log scale: ours with the paper's figures (its own spread
  counted), settings paired by seed, many comparisons at once;
- ``paper``: the numbers the paper reports, each with its source;
- ``tables``: tables as Markdown text, for a notebook and a terminal alike;
- ``leaderboard``: the paper's methods and the later remedies against M4, paired by seed (``table`` prints it);
- ``studies``: the paper's diagnostic experiments (Poisson gradient scaling, stiffness) and their result files;
- ``bench``: how fast a training step is on each derivative path, and many runs in each layout;
- ``original_code``: runs the authors' original TensorFlow code from your own checkout of it, edited as little as
  it takes (``python -m pinn_tutorial.reproduction.original_code --help``).
"""
