"""Rubrics: the schema (:mod:`.schema`), loading and the course directory (:mod:`.load`), bands (:mod:`.bands`)."""
from grader.rubric.bands import bands_path, check_signature, raw_check
from grader.rubric.errors import RubricError
from grader.rubric.load import (course_dir, examples_dir, get_rubric, load_rubric, load_rubric_cached, rubric_dir,
                                rubric_paths, skeleton_dir)
from grader.rubric.schema import BandExpected, Case, Check, Item, Rubric, ValueExpected

__all__ = ["BandExpected", "Case", "Check", "Item", "Rubric", "RubricError", "ValueExpected", "bands_path",
           "check_signature", "course_dir", "examples_dir", "get_rubric", "load_rubric", "load_rubric_cached",
           "raw_check", "rubric_dir", "rubric_paths", "skeleton_dir"]
