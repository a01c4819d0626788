"""nbgrader configuration of the peers benchmark (run from this directory)."""
c = get_config()  # noqa: F821 (provided by nbgrader)
c.CourseDirectory.course_id = "dlgrade-peers"
c.ExecutePreprocessor.timeout = 300
