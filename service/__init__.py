"""The outward faces of the tagger: command line, HTTP API, jobs."""
