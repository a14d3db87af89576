"""The staff console: server-rendered screens under ``/console/`` over the same services as the
API, with the same actor (docs/console.md). ``frame`` owns what every screen shares (session,
anti-forgery, roles, language, headers, error pages); each other module is one area's screens."""
