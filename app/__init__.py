"""The consortium gateway: the Fabric Gateway client (app.fabric) and, built on it, the web gateway."""
