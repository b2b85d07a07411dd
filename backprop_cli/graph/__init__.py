"""Computation graphs: a short program of scalar assignments, traced node by node.

``parse`` reads the program with Python's ``ast`` and a whitelist (nothing is ever executed);
``graph`` turns it into named nodes in topological order; ``engine`` computes forward values and
records every backward edge (upstream × local = product) as data; ``rows`` lays the records out as
the same sections every output format shows.
"""
