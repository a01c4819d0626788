"""Course authoring: mutants, skeletons, validation, calibration and release bundles.

With :mod:`grader.pipeline.keys`, the only code that imports the reference.
The submodules are imported one by one (this package imports none of them).
"""
