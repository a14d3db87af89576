"""Staff token claims: tenant and roles, from our own claims or Cognito's."""
from __future__ import annotations

import pytest

from chalicelib.adapters.tokens import InvalidToken, _claims


def test_roles_and_tenant_from_cognito_claims():
    claims = _claims({"sub": "u1", "custom:tenant_id": "theatre-lyon", "cognito:groups": ["staff", "admin"]})
    assert claims.tenant_id == "theatre-lyon" and claims.roles == {"staff", "admin"}


def test_roles_as_a_space_separated_string():
    assert _claims({"sub": "u1", "tenant_id": "t1", "roles": "staff admin"}).roles == {"staff", "admin"}


@pytest.mark.parametrize("tenant", [None, "", "a#b", "x" * 65, "théâtre", 12])
def test_a_token_without_a_clean_tenant_is_refused(tenant):
    with pytest.raises(InvalidToken):
        _claims({"sub": "u1", "tenant_id": tenant, "roles": ["staff"]})
