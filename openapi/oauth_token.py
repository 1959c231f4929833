"""Prints an access token for a seeded user, obtained through ringhook's real OAuth flow:
the consent page (GET /oauth/authorize), its form posted back with the CSRF cookie and hidden
inputs, the user's email and password and decision=allow, then the code exchanged at
/oauth/token with the PKCE verifier.

usage: oauth_token.py BASE_URL CLIENT_ID CLIENT_SECRET REDIRECT_URI EMAIL PASSWORD SCOPE
"""

import base64
import hashlib
import html
import re
import secrets
import sys
from urllib.parse import parse_qs, urlsplit

import requests


def hidden_inputs(page: str) -> dict:
    fields = {}
    for tag in re.findall(r"<input[^>]*>", page):
        if 'type="hidden"' not in tag:
            continue
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and value:
            fields[html.unescape(name.group(1))] = html.unescape(value.group(1))
    return fields


def main() -> None:
    base, client_id, client_secret, redirect_uri, email, password, scope = sys.argv[1:8]
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    state = secrets.token_urlsafe(8)
    browser = requests.Session()
    page = browser.get(
        f"{base}/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        timeout=30,
    )
    page.raise_for_status()
    form = hidden_inputs(page.text)
    if "csrf_token" not in form:
        sys.exit("the consent page has no csrf_token input")
    form.update({"email": email, "password": password, "decision": "allow"})
    decision = browser.post(f"{base}/oauth/authorize", data=form, allow_redirects=False, timeout=30)
    if decision.status_code != 303:
        sys.exit(f"the consent form answered {decision.status_code}, not 303")
    answer = parse_qs(urlsplit(decision.headers["location"]).query)
    if answer.get("state") != [state] or "code" not in answer:
        sys.exit(f"the redirect carries no code: {decision.headers['location']}")
    tokens = requests.post(
        f"{base}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": answer["code"][0],
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        },
        auth=(client_id, client_secret),
        timeout=30,
    )
    tokens.raise_for_status()
    print(tokens.json()["access_token"])


if __name__ == "__main__":
    main()
