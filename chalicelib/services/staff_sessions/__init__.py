"""Staff sessions of the console: signing staff in (Cognito's hosted UI with the authorisation
code and PKCE in AWS, a dev sign-in in the local stack), the signed session cookie that carries
the verified actor, its renewal while active, and the anti-forgery value bound to it."""
