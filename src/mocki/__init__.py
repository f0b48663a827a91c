"""MOCKI: self-hostable AI mock interviews joined to a job-application tracker."""

__version__ = "0.1.0"
