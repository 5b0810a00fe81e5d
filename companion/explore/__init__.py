"""The book's interactive figures, one module per chapter.

Each function returns what :func:`companion.figures.interactive` returns (a figure that moves on
the static site and live in Jupyter) or a plain plotly figure. The mathematics lives in the topic
modules (:mod:`companion.information`, :mod:`companion.divergences`, ...); these modules only
draw it.
"""
