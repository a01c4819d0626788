"""Reference solutions of the course, one module per assignment topic.

Pure numerics: arrays in, arrays out, explicit ``rng``/``seed`` arguments.
The grader computes every expected value from these functions; the skeleton
notebooks are generated from them (``### BEGIN SOLUTION`` regions stripped).
This package never ships to students.
"""
