"""Members' accounts: sign-up, sign-in and sessions, second factors, passwords, account mail."""
