"""The HTTP platform every function is built on: app factory, envelope, errors, middleware, auth."""
