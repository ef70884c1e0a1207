"""The engine's routes, one router per resource: jobs, signed links, account (keys, identity), health."""
