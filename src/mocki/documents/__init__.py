"""Resumes and job descriptions: upload, limits, text extraction."""
