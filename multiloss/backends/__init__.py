"""Framework adapters. Each is imported only on request (``multiloss.torch``,
``multiloss.keras``, ``multiloss.jax``) or, for the ``*_ops`` modules, by
``multiloss._namespace`` the first time it sees that framework's arrays."""
