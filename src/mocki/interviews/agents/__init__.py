"""The specialist interviewers and the router that picks one per planned question."""
