"""Small, boring building blocks shared by every domain."""
