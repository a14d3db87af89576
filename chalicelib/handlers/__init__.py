"""HTTP handlers: one Blueprint per area. They parse and validate input, call a service, shape output."""
