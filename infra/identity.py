"""The staff user pool: who signs in to the back office, in which venue (tenant), with what role.

- Sign-in by email, invitation only (an admin creates the account; nobody signs up alone),
  strong passwords, a second factor as the stage says (``UserPoolMfa``), account recovery
  by verified email.
- ``custom:tenant_id``: the venue a staff member works for, the tenant of every key they touch
  (``chalicelib/adapters/tokens.py`` reads it from the ID token). Set by an admin through the
  Cognito API (``admin-create-user``, ``admin-update-user-attributes``); the app client can read
  it but not write it, so a staff member cannot move themselves to another venue.
- The ``staff`` and ``admin`` groups: the ``cognito:groups`` claim, the roles the routes check.
- One app client for the back office: no secret (a browser app), SRP sign-in, refresh tokens,
  token lifetimes from the stage, token revocation, and no user existence errors.
"""
from __future__ import annotations

GROUPS = {"staff": "Back office: sales, customers, mails", "admin": "Everything staff do, plus settings and team"}


def resources() -> dict:
    from chalicelib.config import settings
    from infra.stage import retained

    pool = {"Ref": "StaffUserPool"}
    resources = {
        "StaffUserPool": {"Type": "AWS::Cognito::UserPool", **retained(), "Properties": {
            "UserPoolName": f"ticketing-{settings.stage}-staff",
            "UsernameAttributes": ["email"], "AutoVerifiedAttributes": ["email"],
            "UsernameConfiguration": {"CaseSensitive": False},
            "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
            "Policies": {"PasswordPolicy": {"MinimumLength": 12, "RequireLowercase": True, "RequireUppercase": True,
                                            "RequireNumbers": True, "RequireSymbols": False,
                                            "TemporaryPasswordValidityDays": 3}},
            "MfaConfiguration": {"Ref": "UserPoolMfa"},
            # Cognito refuses a second factor listed while MFA is off.
            "EnabledMfas": {"Fn::If": ["HasStaffMfa", ["SOFTWARE_TOKEN_MFA"], {"Ref": "AWS::NoValue"}]},
            "AccountRecoverySetting": {"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]},
            "DeletionProtection": "ACTIVE" if retained()["DeletionPolicy"] == "Retain" else "INACTIVE",
            "Schema": [{"Name": "tenant_id", "AttributeDataType": "String", "Mutable": True,
                        "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "64"}}]}},
        "StaffUserPoolClient": {"Type": "AWS::Cognito::UserPoolClient", "Properties": {
            "UserPoolId": pool, "ClientName": f"ticketing-{settings.stage}-back-office", "GenerateSecret": False,
            "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            "PreventUserExistenceErrors": "ENABLED", "EnableTokenRevocation": True,
            "AccessTokenValidity": {"Ref": "StaffSessionMinutes"}, "IdTokenValidity": {"Ref": "StaffSessionMinutes"},
            "RefreshTokenValidity": {"Ref": "StaffRefreshDays"},
            "TokenValidityUnits": {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"},
            # custom:tenant_id readable, never writable by the client: only an admin sets it.
            "ReadAttributes": ["email", "email_verified", "name", "custom:tenant_id"],
            "WriteAttributes": ["name"]}},
    }
    for group, description in GROUPS.items():
        resources[f"StaffGroup{group.title()}"] = {"Type": "AWS::Cognito::UserPoolGroup", "Properties": {
            "UserPoolId": pool, "GroupName": group, "Description": description}}
    return resources
