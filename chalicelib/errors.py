"""Typed domain errors. Services raise these; the HTTP layer turns each into problem+json.

Each error carries a stable ``kind`` (the last part of the problem ``type`` URI) and an
HTTP status, so the mapping lives here once and never in handlers; its ``title`` says what kind
of refusal it is in English (problem+json) and ``title_fr`` in French (the console's pages lead
with it), each class declaring both.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class FieldError:
    """What is wrong with one field: ``message`` in English (problem+json), and ``french`` when a
    spectator's page shows it (the page speaks French first)."""

    field: str
    message: str
    french: str | None = None


class DomainError(Exception):
    status = 400
    kind = "bad-request"
    title = "Bad request"
    title_fr = "Demande incorrecte"

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class InvalidInput(DomainError):
    status = 422
    kind = "validation"
    title = "The request has invalid fields"
    title_fr = "Des champs de la demande sont à corriger"

    @classmethod
    def on(cls, field: str, message: str) -> "InvalidInput":
        """The refusal of one field, its message the problem's detail too."""
        return cls(message, errors=[FieldError(field, message)])


class MalformedRequest(DomainError):
    status = 400
    kind = "malformed-request"
    title = "The request body is not valid JSON"
    title_fr = "Le corps de la demande n'est pas du JSON valide"


class PayloadTooLarge(DomainError):
    status = 413
    kind = "payload-too-large"
    title = "The request body is too large"
    title_fr = "Le corps de la demande est trop long"


class UnsupportedMediaType(DomainError):
    status = 415
    kind = "unsupported-media-type"
    title = "The request body is not of a type this route takes"
    title_fr = "Ce type de contenu n'est pas accepté ici"


class Unauthenticated(DomainError):
    status = 401
    kind = "unauthenticated"
    title = "A valid staff token is required"
    title_fr = "Une connexion valide de l'équipe est nécessaire"


class Forbidden(DomainError):
    status = 403
    kind = "forbidden"
    title = "This action needs another role"
    title_fr = "Cette action demande un autre rôle"


class NotFound(DomainError):
    status = 404
    kind = "not-found"
    title = "Not found"
    title_fr = "Introuvable"


class Conflict(DomainError):
    status = 409
    kind = "conflict"
    title = "The request conflicts with the current state"
    title_fr = "La demande n'est pas possible dans l'état actuel"


class ConcurrentChange(Conflict):
    kind = "concurrent-change"
    title = "Someone else changed this first; reload and try again"
    title_fr = "Quelqu'un l'a modifié entre-temps : rechargez la page et recommencez"


class Duplicate(Conflict):
    kind = "duplicate"
    title = "Another record already holds this value"
    title_fr = "Une autre fiche porte déjà cette valeur"


class Unexpected(DomainError):
    status = 500
    kind = "internal"
    title = "Something went wrong on our side; it was logged"
    title_fr = "Une erreur de notre côté ; elle a été consignée"


class InvalidSignature(DomainError):
    status = 400
    kind = "invalid-signature"
    title = "The request is not signed as it must be"
    title_fr = "La demande n'est pas signée comme il le faut"


class LinkInvalid(DomainError):
    """A signed link (or grant) that was altered, copied incompletely, or made for something else."""

    status = 403
    kind = "link-invalid"
    title = "This link is not valid"
    title_fr = "Ce lien n'est pas valide"


class LinkExpired(DomainError):
    status = 410
    kind = "link-expired"
    title = "This link has expired"
    title_fr = "Ce lien a expiré"


class ServiceUnavailable(DomainError):
    """Something the request needs is not there now (a secret, a setting): nothing was done; retry later."""

    status = 503
    kind = "unavailable"
    title = "The service is not available right now"
    title_fr = "Le service n'est pas disponible pour le moment"
