"""Every auth outcome: no token, bad signature, expired, wrong role, ACL opening and denial,
RS256 tokens of an external issuer. A refused call never carries data."""

from __future__ import annotations

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from runtime.service.auth import mint
from runtime.service.server import Background, build
from tests.service.conftest import HUBCONF

PROTECTED = [("GET", "/pipes"), ("GET", "/config"), ("GET", "/datasets"),
             ("GET", "/datasets/inbox/entities"), ("GET", "/publishers/feed/entities"),
             ("GET", "/env"), ("GET", "/secrets"), ("GET", "/metrics"),
             ("POST", "/receivers/people/entities"), ("GET", "/pipes/people/entities")]


def _refused(r, status):
    assert r.status_code == status, (r.request.url, r.status_code, r.text)
    body = r.json()
    assert set(body) <= {"error", "message", "details"}
    assert "Ann" not in r.text and "greeting" not in r.text


@pytest.mark.parametrize("method,path", PROTECTED)
def test_no_token_is_401(server, method, path):
    _refused(httpx.request(method, server.url + path, json=[]), 401)


@pytest.mark.parametrize("method,path", PROTECTED)
def test_bad_signature_and_expired_are_401(server, method, path):
    forged = mint(b"not-the-key" * 4, "Admin")
    expired = server.token("Admin", ttl=-10)
    for tok in (forged, expired, "garbage", forged + "x"):
        r = httpx.request(method, server.url + path, json=[],
                          headers={"Authorization": f"Bearer {tok}"})
        _refused(r, 401)
    r = httpx.request(method, server.url + path, json=[],
                      headers={"Authorization": f"Bearer {expired}"})
    assert r.json()["error"] == "token-expired"
    r = httpx.request(method, server.url + path, json=[], headers={"Authorization": "Basic abc"})
    _refused(r, 401)


def test_none_algorithm_is_refused(server):
    tok = jwt.encode({"principals": ["group:Admin"], "exp": 2**31, "iat": 0}, None,
                     algorithm="none")
    _refused(httpx.get(server.url + "/pipes", headers={"Authorization": f"Bearer {tok}"}), 401)


def test_wrong_role_is_403(server):
    with server.client("Guest") as guest, server.client("User") as user, \
            server.client("Developer") as dev:
        assert guest.get("/pipes").status_code == 200
        assert guest.get("/datasets").status_code == 200
        _refused(guest.post("/pipes/people/pump", data={"operation": "start"}), 403)
        _refused(guest.post("/receivers/inbox/entities", json=[{"_id": "g"}]), 403)
        _refused(guest.put("/pipes/people/config", json={}), 403)
        _refused(user.get("/config"), 403)
        _refused(user.get("/env"), 403)
        _refused(user.get("/secrets"), 403)
        _refused(dev.get("/metrics"), 403)
        assert dev.get("/config").status_code == 200
    from runtime.service.auth import local_key
    tok = mint(local_key(server.data), None, principals=["user:nobody@example.org"])
    _refused(httpx.get(server.url + "/pipes", headers={"Authorization": f"Bearer {tok}"}), 403)


def test_acl_opens_receiver_and_publisher_to_anonymous(server):
    r = httpx.post(server.url + "/receivers/inbox/entities", json=[{"_id": "anon", "n": 1}])
    assert r.status_code == 200
    r = httpx.get(server.url + "/publishers/public-feed/entities")
    assert r.status_code == 200
    # not the other way round, and unknown pipes reveal nothing
    _refused(httpx.get(server.url + "/publishers/feed/entities"), 401)
    _refused(httpx.post(server.url + "/receivers/nope/entities", json=[]), 401)


def test_acl_deny_wins(tmp_path):
    import json
    import shutil
    conf = tmp_path / "conf"
    shutil.copytree(HUBCONF, conf)
    p = conf / "pipes" / "people.conf.json"
    cfg = json.loads(p.read_text())
    cfg["permissions"] = [["deny", ["group:Developer"], ["read_config", "read_data"]]]
    p.write_text(json.dumps(cfg))
    data = tmp_path / "data"
    with Background(build(data, conf, fsync=False)) as bg:
        from runtime.service.auth import local_key
        h = {"Authorization": f"Bearer {mint(local_key(data), 'Developer')}"}
        _refused(httpx.get(bg.url + "/pipes/people", headers=h), 403)
        ids = [x["_id"] for x in httpx.get(bg.url + "/pipes", headers=h).json()]
        assert "people" not in ids and "inbox" in ids


def test_rs256_issuer(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    pub = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    with Background(build(tmp_path, HUBCONF, rs256_public_key=pub, fsync=False)) as bg:
        good = mint(pem, "Guest", algorithm="RS256")
        assert httpx.get(bg.url + "/pipes", headers={"Authorization": f"Bearer {good}"}) \
            .status_code == 200
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        bad = mint(other, "Guest", algorithm="RS256")
        _refused(httpx.get(bg.url + "/pipes", headers={"Authorization": f"Bearer {bad}"}), 401)
        # an HS256 token signed with the public key text must not pass (algorithm confusion)
        try:
            conf = jwt.encode({"principals": ["group:Admin"], "exp": 2**31, "iat": 0},
                              pub, algorithm="HS256")
        except jwt.exceptions.InvalidKeyError:
            conf = None
        if conf:
            _refused(httpx.get(bg.url + "/pipes", headers={"Authorization": f"Bearer {conf}"}),
                     401)


def test_no_auth_only_on_loopback(tmp_path):
    with pytest.raises(ValueError):
        build(tmp_path, HUBCONF, auth=False, host="0.0.0.0")


def test_token_cli(tmp_path):
    from click.testing import CliRunner

    from cli.main import main
    from runtime.service.auth import Verifier, local_key
    r = CliRunner().invoke(main, ["token", "create", "--role", "Developer", "--data",
                                  str(tmp_path), "--email", "a@b.c"])
    assert r.exit_code == 0, r.output
    p = Verifier(local_key(tmp_path)).principal("Bearer " + r.output.strip())
    assert p.roles == ["Developer"] and "user:a@b.c" in p.principals
