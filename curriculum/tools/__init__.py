"""Tools built on the core: the learner-free simulator (`curriculum simulate`) and the cost bench (`curriculum bench`).

The core (`curriculum/*.py` next to this folder) never imports from here.
"""
